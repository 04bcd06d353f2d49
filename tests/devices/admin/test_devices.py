"""The device pages of the admin: the changelist shows each device's config status, searches and
filters, at the same number of queries for 5 devices as for 40; the change page shows topics and
config history, and saving or deleting goes through the services (version bumped, who recorded,
topics moved, cached credentials revoked), each under its permission."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from devices import services
from devices.models import ConfigChange, Device, DeviceEvent
from tests.clients import change_form_data, login
from tests.devices.admin.helpers import DEVICE_CHANGELIST, device_api_topics, run_action
from tests.factories import OwnerFactory, UserFactory, measurement_type, register_device

pytestmark = pytest.mark.django_db


def device_change_url(device: Device) -> str:
    return reverse("admin:devices_device_change", args=[device.device_id])


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
