"""The admin console of the device registry: every page renders, every write goes through the
services (versions bumped, history recorded, caches dropped), permissions hold, and the
device changelist costs the same number of queries for 5 devices as for 40."""

import csv
import io
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.models import ApiToken
from devices import services
from devices.models import ConfigChange, Device, DeviceEvent, MeasurementType, Owner
from tests.clients import change_form_data, login
from tests.factories import OwnerFactory, UserFactory, measurement_type, register_device

pytestmark = pytest.mark.django_db

DEVICE_CHANGELIST = reverse("admin:devices_device_changelist")


def device_change_url(device: Device) -> str:
    return reverse("admin:devices_device_change", args=[device.device_id])


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser):
    return login(superuser)


@pytest.fixture
def fleet_manager():
    """Staff who may look after devices but not change their configs."""
    return UserFactory(is_staff=True, permissions=["devices.view_device", "devices.change_device"])


def device_api_topics(device: Device) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    response = client.get(f"/api/v1/devices/{device.device_id}/topics/")
    assert response.status_code == 200, response.content
    return response.json()


def device_api_topics_status(device: Device) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    return client.get(f"/api/v1/devices/{device.device_id}/topics/").status_code


def run_action(client: Client, action: str, devices, url: str = DEVICE_CHANGELIST, **extra):
    data = {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [d.device_id for d in devices], **extra}
    return client.post(url, data)


def apply_action(client: Client, action: str, devices, url: str = DEVICE_CHANGELIST, select_across=0, **fields):
    """The second step of an action with a form page: the form posted back with `apply`."""
    data = {
        "action": action,
        "apply": "Apply",
        "select_across": select_across,
        ACTION_CHECKBOX_NAME: [d.device_id for d in devices],
        **fields,
    }
    return client.post(url, data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------- device changelist


def test_changelist_shows_each_device_with_its_config_status(admin_client, owner):
    pending = register_device(owner=owner, city="Lisbon", sensor_model="BME280")
    applied = register_device(owner=owner)
    services.config_mark_applied(device_id=applied.device_id, version=1)

    response = admin_client.get(DEVICE_CHANGELIST)

    assert response.status_code == 200
    rows = {row.device_id: row for row in response.context["cl"].result_list}
    assert set(rows) == {pending.device_id, applied.device_id}
    html = response.content.decode()
    assert "Lisbon" in html and "BME280" in html and owner.name in html
    assert rows[applied.device_id].config.is_applied and not rows[pending.device_id].config.is_applied


def test_changelist_queries_do_not_grow_with_the_number_of_devices(admin_client):
    owners = [OwnerFactory() for _ in range(3)]

    def changelist_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(DEVICE_CHANGELIST)
        assert response.status_code == 200
        return len(queries)

    for i in range(5):
        register_device(owner=owners[i % 3], measurement_type_slug=["temperature", "humidity"][i % 2])
    with_5 = changelist_queries()
    for i in range(35):
        register_device(owner=owners[i % 3], measurement_type_slug=["temperature", "humidity"][i % 2])
    with_40 = changelist_queries()

    assert Device.objects.count() == 40
    assert with_40 == with_5


@pytest.mark.parametrize("notation", ["5e:cf:7f:a:b:c", "5E-CF-7F-0A-0B-0C", "5ecf.7f0a.0b0c", "5ECF7F0A0B0C"])
def test_search_finds_a_device_by_its_mac_in_any_notation(admin_client, owner, notation):
    wanted = register_device(owner=owner, mac_address="5E:CF:7F:0A:0B:0C")
    register_device(owner=owner)

    response = admin_client.get(DEVICE_CHANGELIST, {"q": notation})

    assert [d.device_id for d in response.context["cl"].result_list] == [wanted.device_id]


def test_search_by_city_and_by_device_id(admin_client, owner):
    porto = register_device(owner=owner, city="Porto")
    berlin = register_device(owner=owner, city="Berlin")

    by_city = admin_client.get(DEVICE_CHANGELIST, {"q": "port"})
    by_id = admin_client.get(DEVICE_CHANGELIST, {"q": berlin.device_id})

    assert [d.device_id for d in by_city.context["cl"].result_list] == [porto.device_id]
    assert [d.device_id for d in by_id.context["cl"].result_list] == [berlin.device_id]


def test_filters_by_owner_measurement_type_active_flag_and_config_status(admin_client, owner):
    other_owner = OwnerFactory()
    mine = register_device(owner=owner)
    theirs = register_device(owner=other_owner, measurement_type_slug="humidity")
    inactive = register_device(owner=owner)
    services.devices_deactivate(device_ids=[inactive.device_id])
    services.config_mark_applied(device_id=mine.device_id, version=1)

    def listed(**params) -> set[str]:
        response = admin_client.get(DEVICE_CHANGELIST, params)
        assert response.status_code == 200
        return {d.device_id for d in response.context["cl"].result_list}

    assert listed(owner__id__exact=other_owner.pk) == {theirs.device_id}
    assert listed(measurement_type__id__exact=measurement_type("humidity").pk) == {theirs.device_id}
    assert listed(is_active__exact=0) == {inactive.device_id}
    assert listed(config_status="applied") == {mine.device_id}
    assert listed(config_status="pending") == {theirs.device_id, inactive.device_id}


def test_staff_without_device_permissions_cannot_open_the_changelist(owner):
    register_device(owner=owner)
    client = login(UserFactory(is_staff=True))

    assert client.get(DEVICE_CHANGELIST).status_code == 403


# ---------------------------------------------------------------------------- device change page


def test_change_page_shows_topics_and_config_history_newest_first(admin_client, owner, superuser):
    device = register_device(owner=owner, city="Lisbon")
    services.config_update(device=device, send_interval=30, changed_by=superuser)
    services.config_update(device=device, qos=2, changed_by=superuser)

    response = admin_client.get(device_change_url(device))

    assert response.status_code == 200
    html = response.content.decode()
    for topic in device.topics.values():
        assert topic in html
    history = [i for i in response.context["inline_admin_formsets"] if i.opts.model is ConfigChange][0]
    assert [form.instance.version for form in history.formset.forms] == [3, 2, 1]
    assert "send_interval: 60 → 30" in html and "qos: 1 → 2" in html
    assert device.mac_address in html
    assert "key_digest" not in html and Device.objects.get().key_digest not in html


def test_saving_a_new_send_interval_bumps_the_version_and_records_who(admin_client, owner, superuser):
    device = register_device(owner=owner)
    data = change_form_data(admin_client.get(device_change_url(device)))
    data["config-0-send_interval"] = 15

    response = admin_client.post(device_change_url(device), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    device.config.refresh_from_db()
    assert (device.config.version, device.config.send_interval, device.config.updated_by) == (2, 15, superuser)
    change = ConfigChange.objects.get(device=device, version=2)
    assert (change.changed_by, change.source) == (superuser, ConfigChange.Source.ADMIN)
    assert (change.old["send_interval"], change.new["send_interval"]) == (60, 15)
    assert DeviceEvent.objects.filter(device=device, kind=DeviceEvent.Kind.CONFIG_CHANGED).count() == 1


def test_saving_the_change_form_unchanged_leaves_the_config_version_alone(admin_client, owner):
    device = register_device(owner=owner)
    data = change_form_data(admin_client.get(device_change_url(device)))

    assert admin_client.post(device_change_url(device), data).status_code == 302

    device.config.refresh_from_db()
    assert device.config.version == 1
    assert ConfigChange.objects.filter(device=device).count() == 1


def test_saving_device_fields_changes_the_topics_the_device_is_served(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner, city="Berlin")
    assert device_api_topics(device)["telemetry"].split("/")[1] == "berlin"  # now cached
    data = change_form_data(admin_client.get(device_change_url(device)))
    data["city"] = "Hamburg"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(device_change_url(device), data)

    assert response.status_code == 302
    assert Device.objects.get().city == "Hamburg"
    assert device_api_topics(device)["telemetry"].split("/")[1] == "hamburg"


def test_an_invalid_send_interval_is_refused_on_the_change_form(admin_client, owner):
    device = register_device(owner=owner)
    data = change_form_data(admin_client.get(device_change_url(device)))
    data["config-0-send_interval"] = 0

    response = admin_client.post(device_change_url(device), data)

    assert response.status_code == 200
    assert response.context["errors"]
    device.config.refresh_from_db()
    assert (device.config.version, device.config.send_interval) == (1, 60)


def number_input(html: str, name: str) -> str:
    [tag] = re.findall(rf'<input type="number" name="{name}"[^>]*>', html)
    return tag


LIMITS_HELP = "1 to 86,400 (one day)"


def test_the_send_interval_inputs_state_their_limits(admin_client, owner):
    device = register_device(owner=owner)

    pages = {
        "config-0-send_interval": admin_client.get(device_change_url(device)),
        "send_interval": run_action(admin_client, "set_send_interval", [device]),
        "default_send_interval": admin_client.get(reverse("admin:devices_owner_change", args=[owner.pk])),
    }

    for name, page in pages.items():
        html = page.content.decode()
        tag = number_input(html, name)
        assert 'min="1"' in tag and 'max="86400"' in tag, tag
        assert LIMITS_HELP in html, name
    mtype_page = admin_client.get(reverse("admin:devices_measurementtype_add")).content.decode()
    assert 'max="86400"' in number_input(mtype_page, "default_send_interval")


@pytest.mark.parametrize("value", [0, 86_401])
def test_a_send_interval_beyond_its_limits_is_refused_with_them_named(admin_client, owner, value):
    device = register_device(owner=owner)
    data = change_form_data(admin_client.get(device_change_url(device)))
    data["config-0-send_interval"] = value

    response = admin_client.post(device_change_url(device), data)

    assert response.status_code == 200
    assert ("greater than or equal to 1" if value < 1 else "less than or equal to 86400") in str(
        response.context["errors"]
    )
    device.config.refresh_from_db()
    assert device.config.version == 1


def test_staff_without_config_permission_sees_the_config_but_cannot_change_it(fleet_manager, owner):
    device = register_device(owner=owner)
    client = login(fleet_manager)
    page = client.get(device_change_url(device))
    assert page.status_code == 200
    config_inline = [i for i in page.context["inline_admin_formsets"] if i.opts.model is not ConfigChange][0]
    assert not config_inline.has_change_permission
    data = change_form_data(page)
    data["config-0-send_interval"] = 15  # forged: the form shows no such input
    data["sensor_model"] = "SHT31"

    assert client.post(device_change_url(device), data).status_code == 302

    device.refresh_from_db()
    device.config.refresh_from_db()
    assert device.sensor_model == "SHT31"
    assert (device.config.version, device.config.send_interval) == (1, 60)


def test_devices_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:devices_device_add")).status_code == 403


def test_deleting_a_device_in_the_admin_revokes_its_cached_credentials(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner)
    device_api_topics(device)  # cached, key digest included
    confirm = run_action(admin_client, "delete_selected", [device])
    assert confirm.status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DEVICE_CHANGELIST, {"action": "delete_selected", "post": "yes", ACTION_CHECKBOX_NAME: [device.device_id]}
        )

    assert response.status_code == 302
    assert not Device.objects.exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    assert client.get(f"/api/v1/devices/{device.device_id}/topics/").status_code == 404


# -------------------------------------------------------------------------------- bulk actions


def test_set_send_interval_asks_first_then_bumps_every_selected_config(admin_client, owner, superuser):
    devices = [register_device(owner=owner) for _ in range(3)]
    untouched = register_device(owner=owner)

    form_page = run_action(admin_client, "set_send_interval", devices)
    assert form_page.status_code == 200
    assert form_page.context["device_count"] == 3
    assert Device.objects.filter(config__version=1).count() == 4  # nothing changed yet

    response = apply_action(admin_client, "set_send_interval", devices, send_interval=120)

    assert response.status_code == 302
    assert messages_of(response) == ["Send interval set to 120 s: 3 devices changed."]
    for device in devices:
        device.config.refresh_from_db()
        assert (device.config.version, device.config.send_interval) == (2, 120)
        change = ConfigChange.objects.get(device=device, version=2)
        assert (change.changed_by, change.source, change.new["send_interval"]) == (
            superuser,
            ConfigChange.Source.BULK,
            120,
        )
    untouched.config.refresh_from_db()
    assert untouched.config.version == 1


def test_set_send_interval_reports_devices_that_already_had_it(admin_client, owner):
    devices = [register_device(owner=owner) for _ in range(2)]
    services.config_update(device=devices[0], send_interval=120)

    response = apply_action(admin_client, "set_send_interval", devices, send_interval=120)

    assert messages_of(response) == ["Send interval set to 120 s: 1 device changed, 1 already had it."]


@pytest.mark.parametrize("value", [0, 86_401, "soon"])
def test_set_send_interval_refuses_an_invalid_value_on_its_form_page(admin_client, owner, value):
    device = register_device(owner=owner)

    response = apply_action(admin_client, "set_send_interval", [device], send_interval=value)

    assert response.status_code == 200
    assert response.context["form"].errors["send_interval"]
    device.config.refresh_from_db()
    assert device.config.version == 1


def test_set_qos_bumps_versions_of_the_selected_devices(admin_client, owner):
    devices = [register_device(owner=owner) for _ in range(2)]
    assert run_action(admin_client, "set_qos", devices).status_code == 200

    response = apply_action(admin_client, "set_qos", devices, qos=2)

    assert messages_of(response) == ["QoS set to 2: 2 devices changed."]
    assert set(Device.objects.values_list("config__qos", "config__version")) == {(2, 2)}
    assert ConfigChange.objects.filter(source=ConfigChange.Source.BULK, new__qos=2).count() == 2


@pytest.mark.parametrize("value", [3, ""])
def test_set_qos_refuses_anything_but_0_1_2(admin_client, owner, value):
    device = register_device(owner=owner)

    response = apply_action(admin_client, "set_qos", [device], qos=value)

    assert response.status_code == 200 and response.context["form"].errors["qos"]
    device.config.refresh_from_db()
    assert (device.config.qos, device.config.version) == (1, 1)


def test_a_bulk_action_across_all_pages_changes_only_the_filtered_devices(admin_client, owner):
    berlin = [register_device(owner=owner, city="Berlin") for _ in range(3)]
    porto = register_device(owner=owner, city="Porto")
    url = f"{DEVICE_CHANGELIST}?q=berlin"

    form_page = run_action(admin_client, "set_qos", berlin[:1], url=url, select_across=1)
    assert form_page.context["device_count"] == 3
    response = admin_client.post(
        url,
        {
            "action": "set_qos",
            "apply": "Apply",
            "select_across": 1,
            "qos": 0,
            ACTION_CHECKBOX_NAME: [berlin[0].device_id],
        },
    )

    assert response.status_code == 302
    assert set(Device.objects.filter(config__version=2).values_list("city", flat=True)) == {"Berlin"}
    assert Device.objects.filter(config__version=2).count() == 3
    porto.config.refresh_from_db()
    assert porto.config.version == 1


def test_config_actions_need_the_config_permission(fleet_manager, owner):
    device = register_device(owner=owner)
    client = login(fleet_manager)

    offered = client.get(DEVICE_CHANGELIST).context["action_form"].fields["action"].choices
    response = apply_action(client, "set_send_interval", [device], send_interval=120)

    assert {name for name, _ in offered} >= {"deactivate", "activate", "export_csv"}
    assert not {name for name, _ in offered} & {"set_send_interval", "set_qos"}
    assert "No action selected." in messages_of(response)
    device.config.refresh_from_db()
    assert device.config.version == 1


def test_deactivate_asks_first_with_the_count_then_deactivates(admin_client, owner, django_capture_on_commit_callbacks):
    devices = [register_device(owner=owner) for _ in range(3)]
    services.devices_deactivate(device_ids=[devices[0].device_id])

    confirm = run_action(admin_client, "deactivate", devices)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert confirm.context["device_count"] == 3
    assert "3 devices</strong> selected" in page and "Of these, 1 is inactive already." in page
    assert 'value="Deactivate 3 devices"' in page
    assert Device.objects.filter(is_active=True).count() == 2  # nothing changed yet

    with django_capture_on_commit_callbacks(execute=True):
        response = apply_action(admin_client, "deactivate", devices)

    assert response.status_code == 302
    assert messages_of(response) == ["Deactivated 2 devices, 1 already inactive."]
    assert not Device.objects.filter(is_active=True).exists()
    assert device_api_topics_status(devices[1]) == 403  # the cached record was dropped


def test_activate_asks_first_then_lets_the_devices_back_in(admin_client, owner, django_capture_on_commit_callbacks):
    devices = [register_device(owner=owner) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.devices_deactivate(device_ids=[devices[0].device_id])
    assert device_api_topics_status(devices[0]) == 403

    confirm = run_action(admin_client, "activate", devices)
    assert confirm.status_code == 200 and confirm.context["device_count"] == 2
    assert "Of these, 1 is active already." in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = apply_action(admin_client, "activate", devices)

    assert messages_of(response) == ["Activated 1 device, 1 already active."]
    assert Device.objects.filter(is_active=True).count() == 2
    assert device_api_topics_status(devices[0]) == 200


def test_activating_across_all_pages_changes_only_the_filtered_devices(admin_client, owner):
    berlin = [register_device(owner=owner, city="Berlin") for _ in range(3)]
    porto = register_device(owner=owner, city="Porto")
    services.devices_deactivate(device_ids=[d.device_id for d in [*berlin, porto]])
    url = f"{DEVICE_CHANGELIST}?q=berlin"

    confirm = run_action(admin_client, "activate", berlin[:1], url=url, select_across=1)
    assert confirm.context["device_count"] == 3
    response = apply_action(admin_client, "activate", berlin[:1], url=url, select_across=1)

    assert response.status_code == 302
    assert set(Device.objects.filter(is_active=True).values_list("city", flat=True)) == {"Berlin"}
    assert Device.objects.filter(is_active=True).count() == 3


def test_staff_without_the_change_permission_cannot_deactivate_or_activate(owner):
    device = register_device(owner=owner)
    client = login(UserFactory(is_staff=True, permissions=["devices.view_device"]))

    offered = {name for name, _ in client.get(DEVICE_CHANGELIST).context["action_form"].fields["action"].choices}
    response = apply_action(client, "deactivate", [device])

    assert not offered & {"deactivate", "activate"}
    assert "No action selected." in messages_of(response)
    device.refresh_from_db()
    assert device.is_active


def test_export_csv_streams_every_selected_device(admin_client, owner):
    device = register_device(owner=owner, city="=HYPERLINK(1)", sensor_model="DHT22", latitude=-33.9, longitude=18.4)
    services.config_update(device=device, send_interval=45)
    services.config_mark_applied(device_id=device.device_id, version=1)
    register_device(owner=owner)  # not selected

    response = run_action(admin_client, "export_csv", [device])

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="devices-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "device_id",
        "mac_address",
        "owner",
        "measurement_type",
        "city",
        "latitude",
        "longitude",
        "sensor_model",
        "is_active",
        "last_seen",
        "config_version",
        "applied_version",
        "send_interval",
        "qos",
    ]
    assert rows[1:] == [
        [
            device.device_id,
            device.mac_address,
            owner.slug,
            "temperature",
            "'=HYPERLINK(1)",
            "-33.9",
            "18.4",
            "DHT22",
            "true",
            device.last_seen.isoformat(),
            "2",
            "1",
            "45",
            "1",
        ]
    ]


# ---------------------------------------------------------------------------------- owners


def test_owner_changelist_counts_devices(admin_client, owner):
    register_device(owner=owner)
    register_device(owner=owner)
    OwnerFactory()

    response = admin_client.get(reverse("admin:devices_owner_changelist"))

    assert response.status_code == 200
    counts = {o.slug: o.device_count for o in response.context["cl"].result_list}
    assert counts[owner.slug] == 2 and sorted(counts.values()) == [0, 2]


def test_adding_an_owner_shows_its_secret_once_and_the_secret_registers_devices(admin_client):
    response = admin_client.post(reverse("admin:devices_owner_add"), {"name": "Acme Sensors", "slug": "acme"})

    assert response.status_code == 200
    secret = response.context["secret"]
    owner = Owner.objects.get(slug="acme")
    assert services.owner_secret_matches(owner, secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert messages_of(response) == []
    assert owner.provisioning_secret_digest not in response.content.decode()
    change_page = admin_client.get(reverse("admin:devices_owner_change", args=[owner.pk])).content.decode()
    assert secret not in change_page and owner.provisioning_secret_digest not in change_page
    assert secret not in LogEntry.objects.get(object_id=str(owner.pk)).change_message


def test_adding_an_owner_with_a_taken_slug_is_a_form_error(admin_client, owner):
    response = admin_client.post(reverse("admin:devices_owner_add"), {"name": "Copy", "slug": owner.slug})

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert Owner.objects.count() == 1


def test_rotating_the_secret_shows_the_new_one_and_the_old_one_works_during_grace(admin_client, owner):
    url = reverse("admin:devices_owner_rotate_secret", args=[owner.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert services.owner_secret_matches(Owner.objects.get(), owner.secret)  # GET changes nothing

    response = admin_client.post(url)

    assert response.status_code == 200
    new_secret = response.context["secret"]
    assert new_secret != owner.secret and new_secret in response.content.decode()
    assert "keeps working until" in response.content.decode()
    owner.refresh_from_db()
    assert services.owner_secret_matches(owner, new_secret)
    assert services.owner_secret_matches(owner, owner.secret)  # the previous one, in grace
    assert messages_of(response) == []


def test_staff_without_owner_change_permission_cannot_rotate_the_secret(owner):
    client = login(UserFactory(is_staff=True, permissions=["devices.view_owner"]))

    assert client.post(reverse("admin:devices_owner_rotate_secret", args=[owner.pk])).status_code == 403
    owner.refresh_from_db()
    assert services.owner_secret_matches(owner, owner.secret) and owner.secret_rotated_at is None


def test_renaming_an_owner_slug_changes_the_topics_devices_are_served(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner)
    assert device_api_topics(device)["telemetry"].startswith(f"{owner.slug}/")
    url = reverse("admin:devices_owner_change", args=[owner.pk])
    data = change_form_data(admin_client.get(url))
    data["slug"] = "renamed"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302

    assert device_api_topics(device)["telemetry"].startswith("renamed/")


def test_renaming_a_measurement_type_slug_changes_the_topics_devices_are_served(
    admin_client, owner, django_capture_on_commit_callbacks
):
    device = register_device(owner=owner, measurement_type_slug="temperature")
    assert device_api_topics(device)["telemetry"].split("/")[2] == "temperature"
    mtype = MeasurementType.objects.get(slug="temperature")
    url = reverse("admin:devices_measurementtype_change", args=[mtype.pk])
    data = change_form_data(admin_client.get(url))
    data["slug"] = "air-temperature"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, data).status_code == 302

    assert device_api_topics(device)["telemetry"].split("/")[2] == "air-temperature"


# ---------------------------------------------------------------------------------- events


def test_device_events_are_listed_read_only_and_filtered_by_kind(admin_client, owner):
    device = register_device(owner=owner)
    services.config_update(device=device, qos=0)
    url = reverse("admin:devices_deviceevent_changelist")

    changed = admin_client.get(url, {"kind__exact": DeviceEvent.Kind.CONFIG_CHANGED})
    event = DeviceEvent.objects.get(kind=DeviceEvent.Kind.REGISTERED)
    detail = admin_client.get(reverse("admin:devices_deviceevent_change", args=[event.pk]))

    assert [e.kind for e in changed.context["cl"].result_list] == [DeviceEvent.Kind.CONFIG_CHANGED]
    assert detail.status_code == 200 and not detail.context["has_change_permission"]
    assert admin_client.get(reverse("admin:devices_deviceevent_add")).status_code == 403


# -------------------------------------------------------------------------------- API tokens


def test_adding_an_api_token_shows_it_once_and_it_authenticates(admin_client):
    user = UserFactory(permissions=["devices.view_device"])

    response = admin_client.post(reverse("admin:switchboard_apitoken_add"), {"user": user.pk, "name": "ci"})

    assert response.status_code == 200
    raw = response.context["secret"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.digest) == (user, "ci", credential_digest(raw))
    assert raw in response.content.decode() and token.digest not in response.content.decode()
    assert messages_of(response) == []
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/devices/").status_code == 200
    listing = admin_client.get(reverse("admin:switchboard_apitoken_changelist")).content.decode()
    assert token.prefix in listing and raw not in listing and token.digest not in listing


def test_a_deleted_api_token_no_longer_authenticates(admin_client):
    raw = admin_client.post(
        reverse("admin:switchboard_apitoken_add"), {"user": UserFactory(permissions=["devices.view_device"]).pk}
    ).context["secret"]
    token = ApiToken.objects.get()

    response = admin_client.post(reverse("admin:switchboard_apitoken_delete", args=[token.pk]), {"post": "yes"})

    assert response.status_code == 302 and not ApiToken.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/devices/").status_code == 401


def test_staff_may_issue_api_tokens_only_for_themselves(superuser):
    staff = UserFactory(is_staff=True, permissions=["switchboard.add_apitoken", "switchboard.view_apitoken"])
    client = login(staff)

    for_superuser = client.post(reverse("admin:switchboard_apitoken_add"), {"user": superuser.pk})
    for_self = client.post(reverse("admin:switchboard_apitoken_add"), {"user": staff.pk})

    assert for_superuser.status_code == 200 and "user" in for_superuser.context["adminform"].form.errors
    assert for_self.status_code == 200 and "secret" in for_self.context
    assert list(ApiToken.objects.values_list("user", flat=True)) == [staff.pk]


def test_site_header_is_switchboard(admin_client):
    assert admin_client.get(reverse("admin:index")).context["site_header"] == "Switchboard"
