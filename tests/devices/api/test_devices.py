"""Devices on the management API: listed with filters, search and pagination at the same number of
queries for any number of devices, retrieved with topics and config, changed (the topics move at
once) and deleted; model permissions, token auth and the CSRF check decide who may."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from devices import services
from devices.models import Device, DeviceConfig
from tests.devices.api.helpers import DEVICES, as_user, device_topics
from tests.factories import OwnerFactory, UserFactory, register_device

pytestmark = pytest.mark.django_db


def device_url(device_id: str) -> str:
    return f"{DEVICES}{device_id}/"


# ----------------------------------------------------------------------------------- devices


@pytest.fixture
def fleet():
    """Devices of two owners in several cities and types; one is deactivated."""
    acme, globex = OwnerFactory(slug="acme"), OwnerFactory(slug="globex")
    devices = {
        "acme-berlin-temp": register_device(owner=acme, city="Berlin", mac_address="02:00:00:00:00:01"),
        "acme-paris-hum": register_device(
            owner=acme, city="Paris", measurement_type_slug="humidity", mac_address="02:00:00:00:00:02"
        ),
        "globex-berlin-hum": register_device(
            owner=globex,
            city="Berlin",
            measurement_type_slug="humidity",
            mac_address="02:00:00:00:00:03",
            sensor_model="SHT31",
        ),
        "globex-rome-temp": register_device(owner=globex, city="Rome", mac_address="02:00:00:00:00:04"),
    }
    services.devices_deactivate(device_ids=[devices["globex-rome-temp"].device_id])
    return devices


def listed(client: APIClient, **params) -> set[str]:
    response = client.get(DEVICES, params)
    assert response.status_code == 200, response.content
    return {row["device_id"] for row in response.json()["results"]}


def ids(fleet: dict, *names: str) -> set[str]:
    return {fleet[name].device_id for name in names}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["acme-berlin-temp", "acme-paris-hum", "globex-berlin-hum", "globex-rome-temp"]),
        ({"owner": "acme"}, ["acme-berlin-temp", "acme-paris-hum"]),
        ({"measurement_type": "humidity"}, ["acme-paris-hum", "globex-berlin-hum"]),
        ({"city": "berlin"}, ["acme-berlin-temp", "globex-berlin-hum"]),
        ({"is_active": "false"}, ["globex-rome-temp"]),
        ({"is_active": "true", "owner": "globex"}, ["globex-berlin-hum"]),
        ({"owner": "acme", "measurement_type": "humidity", "city": "Paris"}, ["acme-paris-hum"]),
        ({"owner": "nobody"}, []),
        ({"search": "paris"}, ["acme-paris-hum"]),
        ({"search": "02:00:00:00:00:03"}, ["globex-berlin-hum"]),
        ({"search": "sht31"}, ["globex-berlin-hum"]),
    ],
)
def test_devices_are_listed_with_filters_and_search(staff_user, fleet, params, expected):
    assert listed(as_user(staff_user), **params) == ids(fleet, *expected)


def test_devices_are_found_by_their_device_id(staff_user, fleet):
    device_id = fleet["acme-paris-hum"].device_id

    assert listed(as_user(staff_user), search=device_id) == {device_id}


def test_the_device_list_is_paginated(staff_user, fleet):
    client = as_user(staff_user)

    first = client.get(DEVICES, {"limit": 3}).json()
    rest = client.get(DEVICES, {"limit": 3, "offset": 3}).json()

    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    assert {r["device_id"] for r in first["results"] + rest["results"]} == ids(fleet, *fleet)


def test_an_invalid_filter_value_is_400(staff_user, fleet):
    response = as_user(staff_user).get(DEVICES, {"is_active": "maybe"})

    assert response.status_code == 400
    assert "is_active" in response.json()


@pytest.mark.parametrize("params", [{"limit": 10**30}, {"offset": 10**30}, {"limit": -1, "offset": "x"}])
def test_absurd_pagination_numbers_get_a_page_not_an_error(staff_user, fleet, params):
    response = as_user(staff_user).get(DEVICES, params)

    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_the_device_list_costs_the_same_queries_for_any_number_of_devices(staff_user, fleet, owner):
    client = as_user(staff_user)
    client.get(DEVICES)  # the first use of a token stamps it

    def queries_to_list(expected: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(DEVICES).json()["results"]) == expected
        return len(captured)

    few = queries_to_list(4)
    for _ in range(10):
        register_device(owner=owner)

    assert queries_to_list(14) == few


def test_a_device_is_retrieved_with_its_topics_and_config(staff_user, device):
    response = as_user(staff_user).get(device_url(device.device_id))

    assert response.status_code == 200
    body = response.json()
    assert body["device_id"] == device.device_id
    assert body["mac_address"] == device.mac_address
    assert body["owner"] == device.owner.slug
    assert body["topics"] == device.topics
    assert body["config"]["version"] == 1
    assert body["config"]["is_applied"] is False
    assert "key_digest" not in body


def test_an_unknown_device_is_404(staff_user):
    response = as_user(staff_user).get(device_url("0123456789abcdef"))

    assert response.status_code == 404
    assert response.json() == {"detail": "No Device matches the given query."}


@pytest.mark.parametrize(
    ("change", "level", "expected"),
    [
        ({"city": "Köln"}, 1, "koln"),
        ({"owner": "globex"}, 0, "globex"),
        ({"measurement_type": "humidity"}, 2, "humidity"),
    ],
)
def test_patching_a_device_changes_its_topics_at_once(
    staff_user, device, change, level, expected, django_capture_on_commit_callbacks
):
    OwnerFactory(slug="globex")
    device_topics(device)  # cached

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(staff_user).patch(device_url(device.device_id), change, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["topics"]["telemetry"].split("/")[level] == expected
    assert device_topics(device)["telemetry"].split("/")[level] == expected


def test_putting_a_device_replaces_its_metadata(staff_user, device):
    body = {
        "owner": device.owner.slug,
        "measurement_type": "pressure",
        "city": "Oslo",
        "latitude": 59.9,
        "longitude": 10.75,
        "sensor_model": "BMP280",
        "is_active": False,
    }

    response = as_user(staff_user).put(device_url(device.device_id), body, format="json")

    assert response.status_code == 200, response.content
    stored = Device.objects.get()
    assert (stored.measurement_type.slug, stored.city, stored.latitude, stored.sensor_model, stored.is_active) == (
        "pressure",
        "Oslo",
        59.9,
        "BMP280",
        False,
    )


def test_putting_a_device_without_all_fields_is_400(staff_user, device):
    response = as_user(staff_user).put(device_url(device.device_id), {"city": "Oslo"}, format="json")

    assert response.status_code == 400
    assert Device.objects.get().city == "Berlin"


@pytest.mark.parametrize(
    "change",
    [
        {"latitude": 91},
        {"longitude": "NaN"},
        {"owner": "no-such-owner"},
        {"owner": "nul\u0000"},
        {"owner": 12},
        {"measurement_type": "\u0000"},
        {"measurement_type": "radiation"},
        {"city": ""},
        {"is_active": "perhaps"},
    ],
)
def test_an_invalid_device_change_is_400(staff_user, device, change):
    response = as_user(staff_user).patch(device_url(device.device_id), change, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(change)


def test_the_mac_and_device_id_can_not_be_changed(staff_user, device):
    as_user(staff_user).patch(
        device_url(device.device_id),
        {"mac_address": "02:FF:FF:FF:FF:FF", "device_id": "ffffffffffffffff"},
        format="json",
    )

    stored = Device.objects.get()
    assert (stored.device_id, stored.mac_address) == (device.device_id, device.mac_address)


def test_a_deleted_device_is_gone_from_every_endpoint(staff_user, device, django_capture_on_commit_callbacks):
    device_topics(device)  # cached
    client = as_user(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(device_url(device.device_id)).status_code == 204

    assert not Device.objects.exists()
    assert not DeviceConfig.objects.exists()
    assert client.get(device_url(device.device_id)).status_code == 404
    own_key = APIClient()
    own_key.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    assert own_key.get(f"{DEVICES}{device.device_id}/topics/").status_code == 404
    assert own_key.get(f"{DEVICES}{device.device_id}/config/").status_code == 404


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"city": "Oslo"}), ("delete", None)],
)
def test_a_user_without_model_permissions_is_403(device, method, body):
    client = as_user(UserFactory(is_staff=True))

    response = getattr(client, method)(device_url(device.device_id), body, format="json")

    assert response.status_code == 403
    assert as_user(UserFactory()).get(DEVICES).status_code == 403
    assert Device.objects.get().city == "Berlin"


def test_a_viewer_may_read_devices_but_not_change_or_delete_them(viewer, device):
    client = as_user(viewer)

    assert client.get(device_url(device.device_id)).status_code == 200
    assert client.patch(device_url(device.device_id), {"city": "Oslo"}, format="json").status_code == 403
    assert client.delete(device_url(device.device_id)).status_code == 403
    assert Device.objects.filter(city="Berlin").exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_anonymous_callers_and_device_keys_are_401_on_the_management_api(device, method):
    with_key = APIClient()
    with_key.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")

    for client in (APIClient(), with_key):
        assert getattr(client, method)(device_url(device.device_id), {"city": "x"}, format="json").status_code == 401
    assert Device.objects.exists()


def test_a_session_user_must_send_the_csrf_token_to_change_a_device(staff_user, device):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)

    assert client.get(device_url(device.device_id)).status_code == 200
    response = client.patch(device_url(device.device_id), {"city": "Oslo"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
