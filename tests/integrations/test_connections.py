"""Connections: "when event X happens, run integration Y with config Z", without code."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from devices import services as device_services
from devices.models import Device, DeviceEvent
from devices.tasks import dispatch_device_event
from integrations.connections import services as connections
from integrations.models import Connection, IntegrationRun, WebhookDelivery
from integrations.webhooks import endpoints as webhook_endpoints
from integrations.webhooks import persisting as webhook_persisting
from integrations.webhooks import processing as webhook_processing
from integrations.webhooks import receiving as webhook_receiving
from tests.factories import OwnerFactory, register_device
from tests.integrations.providers.fakes import (  # noqa: F401  (fixtures)
    TELEGRAM_TOKEN,
    credential_for,
    fake_services,
    fixture,
    outbound_settings,
    waits,
)
from tests.integrations.webhooks import senders
from tests.workers import wait_until

SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"
NEW_DEVICE_TEXT = "New device {{ device_id }} of {{ owner }} in {{ city }}"


def make_connection(**fields) -> Connection:
    fields.setdefault("name", "new devices to ops chat")
    fields.setdefault("event", Connection.Event.DEVICE_REGISTERED)
    fields.setdefault("integration_id", "telegram.send_message")
    fields.setdefault("config_template", {"chat_id": -100200300, "text": NEW_DEVICE_TEXT})
    return Connection.objects.create(**fields)


def connection_runs(connection) -> list[IntegrationRun]:
    return list(IntegrationRun.objects.filter(connection=connection))


class TestTemplates:
    context = {"device_id": "0a1b2c3d4e5f6071", "latitude": 50.45, "payload": {"items": [{"name": "x"}]}}

    def test_placeholders_in_text_become_text(self):
        rendered = connections.template_render({"text": "Device {{ device_id }} at {{latitude}}"}, self.context)
        assert rendered == {"text": "Device 0a1b2c3d4e5f6071 at 50.45"}

    def test_a_lone_placeholder_keeps_the_type_of_the_value(self):
        assert connections.template_render({"lat": "{{ latitude }}"}, self.context) == {"lat": 50.45}

    def test_a_null_field_reads_unknown_inside_text_and_stays_null_alone(self):
        # A device of unknown location has null coordinates.
        context = {"latitude": None}

        assert connections.template_render({"text": "at {{ latitude }}", "lat": "{{ latitude }}"}, context) == {
            "text": "at unknown",
            "lat": None,
        }

    def test_nested_fields_lists_and_non_strings(self):
        template = {"a": ["{{ payload.items.0.name }}", 3, True, None]}
        assert connections.template_render(template, self.context) == {"a": ["x", 3, True, None]}

    def test_a_field_the_event_lacks_is_an_error(self):
        with pytest.raises(connections.TemplateError, match="no field 'city'"):
            connections.template_render({"text": "{{ city }}"}, self.context)

    def test_templates_are_data_not_code(self):
        # Only {{ field.path }} of the event is a placeholder: no attributes, no tags, no expressions.
        with pytest.raises(connections.TemplateError):
            connections.template_render({"text": "{{ device_id.__class__ }}"}, {"device_id": "d"})
        literal = "{% if 1 %}x{% endif %} {{ 1+1 }}"
        assert connections.template_render({"text": literal}, {}) == {"text": literal}


@pytest.mark.django_db
class TestConfigCheckOnSave:
    def test_a_valid_template_passes(self):
        connections.connection_config_check(
            event="device.registered",
            integration_id="telegram.send_message",
            config_template={"chat_id": 1, "text": NEW_DEVICE_TEXT},
        )

    @pytest.mark.parametrize(
        ("integration_id", "template", "message"),
        [
            ("nope.nothing", {"chat_id": 1, "text": "x"}, "Unknown integration"),
            ("telegram.send_message", {"chat_id": 1, "text": "{{ colour }}"}, "no field 'colour'"),
            ("telegram.send_message", {"text": "x"}, "chat_id"),
            ("telegram.send_message", ["not", "an", "object"], "JSON object"),
        ],
    )
    def test_a_config_that_could_never_be_valid_is_refused(self, integration_id, template, message):
        with pytest.raises(connections.TemplateError, match=message):
            connections.connection_config_check(
                event="device.registered", integration_id=integration_id, config_template=template
            )

    def test_webhook_templates_may_use_any_payload_field(self):
        connections.connection_config_check(
            event="webhook.received",
            integration_id="telegram.send_message",
            config_template={"chat_id": 1, "text": "Push to {{ payload.repository.full_name }}"},
        )

    def test_the_admin_form_shows_the_problem_on_the_field(self, admin_client):
        response = admin_client.post(
            "/admin/integrations/connection/add/",
            {
                "name": "broken",
                "is_active": "on",
                "event": "device.registered",
                "integration_id": "telegram.send_message",
                "config_template": json.dumps({"chat_id": 1, "text": "{{ colour }}"}),
            },
        )
        assert response.status_code == 200
        assert "no field" in response.content.decode()
        assert not Connection.objects.exists()

    def test_the_admin_saves_a_valid_connection(self, admin_client):
        response = admin_client.post(
            "/admin/integrations/connection/add/",
            {
                "name": "ops",
                "is_active": "on",
                "event": "device.registered",
                "integration_id": "telegram.send_message",
                "config_template": json.dumps({"chat_id": 1, "text": NEW_DEVICE_TEXT}),
            },
        )
        assert response.status_code == 302
        assert Connection.objects.get().config_template["text"] == NEW_DEVICE_TEXT


@pytest.mark.django_db
class TestMatching:
    def dispatch(self, event: DeviceEvent) -> None:
        dispatch_device_event(str(event.id))

    def test_a_device_event_creates_one_queued_run_per_matching_connection(self, owner):
        connection = make_connection()
        device = register_device(owner=owner, city="Kyiv")
        event = DeviceEvent.objects.get(device=device, kind="device.registered")

        self.dispatch(event)

        (run,) = connection_runs(connection)
        assert (run.trigger, run.status, run.integration_id) == ("connection", "queued", "telegram.send_message")
        assert run.event_key == f"device-event:{event.id}"

    def test_a_redelivered_event_does_not_run_a_connection_twice(self, owner):
        connection = make_connection()
        device = register_device(owner=owner)
        event = DeviceEvent.objects.get(device=device, kind="device.registered")
        context = {**event.payload, "event": event.kind, "at": "now"}

        for _ in range(2):
            connections.connections_run_for_event(
                event=event.kind,
                context=context,
                event_key=f"device-event:{event.id}",
                owner_slug=owner.slug,
                measurement_type_slug="temperature",
            )

        assert len(connection_runs(connection)) == 1

    def test_owner_and_measurement_type_filters(self, owner):
        other_owner = OwnerFactory()
        for_owner = make_connection(name="owner only", owner=owner)
        for_other = make_connection(name="other owner", owner=other_owner)
        for_humidity = make_connection(name="humidity only", measurement_type=_mtype("humidity"))
        inactive = make_connection(name="off", is_active=False)
        config_changes = make_connection(name="config changes", event=Connection.Event.DEVICE_CONFIG_CHANGED)

        device = register_device(owner=owner, measurement_type_slug="temperature")
        self.dispatch(DeviceEvent.objects.get(device=device))

        assert len(connection_runs(for_owner)) == 1
        assert connection_runs(for_other) == connection_runs(for_humidity) == connection_runs(inactive) == []
        assert connection_runs(config_changes) == []

    def test_config_changes_trigger_their_connections(self, owner):
        connection = make_connection(
            event=Connection.Event.DEVICE_CONFIG_CHANGED,
            config_template={"chat_id": 1, "text": "{{ device_id }} now sends every {{ new.send_interval }} s"},
        )
        device = register_device(owner=owner)
        device_services.config_update(device=device, send_interval=30)

        self.dispatch(DeviceEvent.objects.get(device=device, kind="device.config_changed"))

        assert len(connection_runs(connection)) == 1

    def test_a_device_going_offline_triggers_its_connections(self, owner, settings):
        settings.DEVICES_OFFLINE_AFTER_SECONDS = 300
        connection = make_connection(
            event=Connection.Event.DEVICE_OFFLINE,
            config_template={"chat_id": 1, "text": "{{ device_id }} silent since {{ last_seen }}"},
        )
        device = register_device(owner=owner)
        Device.objects.filter(pk=device.pk).update(last_seen=timezone.now() - dt.timedelta(hours=1))
        assert device_services.devices_mark_offline() == 1

        self.dispatch(DeviceEvent.objects.get(device=device, kind="device.offline"))

        (run,) = connection_runs(connection)
        assert run.status == "queued"

    def test_a_template_the_event_cannot_fill_is_recorded_as_a_failed_run(self, owner):
        connection = make_connection(config_template={"chat_id": 1, "text": "{{ payload.nothing }}"})
        device = register_device(owner=owner)

        self.dispatch(DeviceEvent.objects.get(device=device))

        (run,) = connection_runs(connection)
        assert (run.status, run.error_code) == ("failed", "invalid_config")
        assert "payload.nothing" in run.error_message

    def test_a_webhook_delivery_triggers_the_connections_of_its_endpoint(self):
        endpoint, secret = webhook_endpoints.endpoint_create(scheme="hex_hmac", name="ci")
        other_endpoint, _ = webhook_endpoints.endpoint_create(scheme="hex_hmac", name="other")
        connection = make_connection(
            event=Connection.Event.WEBHOOK_RECEIVED,
            webhook_endpoint=endpoint,
            config_template={"chat_id": 1, "text": "{{ endpoint }}: {{ payload.action }}"},
        )
        make_connection(name="other endpoint", event=Connection.Event.WEBHOOK_RECEIVED, webhook_endpoint=other_endpoint)
        body = b'{"action": "opened"}'
        webhook_receiving.delivery_receive(
            endpoint=endpoint, headers=senders.sign("hex_hmac", secret=secret, body=body), body=body
        )
        webhook_persisting.inbox_drain()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)

        webhook_processing.delivery_process(delivery_pk=delivery.pk)

        (run,) = connection_runs(connection)
        assert run.event_key == f"webhook-delivery:{delivery.pk}"
        assert IntegrationRun.objects.count() == 1


def _mtype(slug):
    from tests.factories import measurement_type

    return measurement_type(slug)


@pytest.mark.django_db(transaction=True)
def test_new_device_to_telegram_end_to_end_with_a_real_worker(celery_worker, fake_services):  # noqa: F811
    """The admin's "new device → Telegram message to our ops chat": registration commits, the
    worker hands the event on, the connection's run sends exactly one message."""
    credential_for("telegram")
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    connection = make_connection()
    owner = OwnerFactory(slug="acme")

    device = register_device(owner=owner, city="Kyiv")

    wait_until(lambda: IntegrationRun.objects.filter(connection=connection, status="succeeded").exists())
    ((request, _),) = fake_services.log
    assert request.form["text"] == f"New device {device.device_id} of acme in Kyiv"
    assert request.form["chat_id"] == "-100200300"
    assert DeviceEvent.objects.get(device=device).dispatched_at is not None
