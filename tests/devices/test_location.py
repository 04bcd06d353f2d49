"""An unknown location: a device of the original firmware may send no coordinates, and none are
invented for it. Both coordinates are empty together, and every place that shows a device says
so: the management API (null), events (null), connection templates ("unknown" inside text), the
admin ("unknown"), the CSV export (empty cells) and the OpenAPI schema (nullable). The device
API's own registration keeps requiring a location."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.errors import DomainError
from devices import registration, services
from devices.models import Device, DeviceEvent
from integrations.connections import services as connections
from tests.clients import as_user, change_form_data, login
from tests.factories import UserFactory, measurement_type, next_mac, register_device, registration_payload

pytestmark = pytest.mark.django_db

PAIR_MESSAGE = "Give latitude and longitude together, or neither (the location is then unknown)."


@pytest.fixture
def nowhere(owner):
    """A device registered without a location."""
    return register_device(owner=owner, latitude=None, longitude=None)


# ---------------------------------------------------------------------------- the services


def test_a_device_registered_without_a_location_has_none(nowhere):
    stored = Device.objects.get()
    assert (stored.latitude, stored.longitude, stored.location_known) == (None, None, False)


def test_registering_again_without_a_location_keeps_the_known_one(owner):
    mac = next_mac()
    register_device(owner=owner, mac_address=mac, latitude=52.0, longitude=104.0)
    Device.objects.update(height=428.0)  # say an admin entered it

    register_device(owner=owner, mac_address=mac, latitude=None, longitude=None)

    stored = Device.objects.get()
    assert (stored.latitude, stored.longitude, stored.height) == (52.0, 104.0, 428.0)


def test_registering_again_with_a_location_replaces_it(owner):
    mac = next_mac()
    register_device(owner=owner, mac_address=mac, latitude=None, longitude=None)

    register_device(owner=owner, mac_address=mac, latitude=1.5, longitude=2.5)

    assert (Device.objects.get().latitude, Device.objects.get().longitude) == (1.5, 2.5)


@pytest.mark.parametrize(("latitude", "longitude", "field"), [(52.0, None, "longitude"), (None, 104.0, "latitude")])
def test_half_a_location_is_refused_by_every_write(owner, device, latitude, longitude, field):
    with pytest.raises(DomainError) as registering:
        registration.device_register(
            mac_address=next_mac(),
            owner=owner,
            measurement_type=measurement_type(),
            city="Irkutsk",
            latitude=latitude,
            longitude=longitude,
        )
    with pytest.raises(DomainError) as updating:
        services.device_update(device=device, **{"latitude": latitude} if latitude is None else {"longitude": None})

    assert (registering.value.field, registering.value.detail) == (field, PAIR_MESSAGE)
    assert updating.value.detail == PAIR_MESSAGE
    assert Device.objects.count() == 1 and Device.objects.get().location_known


def test_the_database_itself_refuses_half_a_location(device):
    with pytest.raises(IntegrityError):
        Device.objects.filter(pk=device.pk).update(latitude=None)


# ------------------------------------------------------------------------------ the APIs


def test_the_management_api_shows_an_unknown_location_as_null(staff_user, nowhere):
    client = as_user(staff_user)

    one = client.get(f"/api/v1/devices/{nowhere.device_id}/").json()
    listed = client.get("/api/v1/devices/").json()["results"][0]

    for shape in (one, listed):
        assert (shape["latitude"], shape["longitude"]) == (None, None)


def test_the_management_api_marks_a_location_unknown_with_two_nulls(staff_user, device):
    client = as_user(staff_user)

    half = client.patch(f"/api/v1/devices/{device.device_id}/", {"latitude": None}, format="json")
    both = client.patch(f"/api/v1/devices/{device.device_id}/", {"latitude": None, "longitude": None}, format="json")

    assert (half.status_code, half.json()) == (400, {"latitude": [PAIR_MESSAGE]})
    assert both.status_code == 200
    assert (both.json()["latitude"], both.json()["longitude"]) == (None, None)


def test_the_device_api_registration_still_requires_a_location(owner):
    body = registration_payload(owner=owner, location={"lat": 52.0, "lon": 104.0})
    del body["latitude"], body["longitude"]

    response = APIClient().post(
        "/api/v1/devices/register/", body, format="json", HTTP_X_PROVISIONING_SECRET=owner.secret
    )

    assert response.status_code == 400
    assert response.json() == {"latitude": ["This field is required."], "longitude": ["This field is required."]}
    assert not Device.objects.exists()


def test_the_schema_says_the_device_location_is_nullable():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    for coordinate in ("latitude", "longitude"):
        assert schemas["DeviceOutput"]["properties"][coordinate]["nullable"] is True
        assert schemas["PatchedDeviceUpdateInputRequest"]["properties"][coordinate]["nullable"] is True
        assert "nullable" not in schemas["RegistrationInputRequest"]["properties"][coordinate]


# ------------------------------------------------------------------ events and connections


def test_events_carry_an_unknown_location_as_null(nowhere):
    payload = DeviceEvent.objects.get(device=nowhere, kind=DeviceEvent.Kind.REGISTERED).payload

    assert (payload["latitude"], payload["longitude"]) == (None, None)


def test_a_connection_template_reads_an_unknown_location_as_unknown_inside_text(nowhere):
    payload = DeviceEvent.objects.get(device=nowhere).payload

    rendered = connections.template_render(
        {"text": "at {{ latitude }}, {{ longitude }}", "lat": "{{ latitude }}"}, payload
    )

    assert rendered == {"text": "at unknown, unknown", "lat": None}


# ------------------------------------------------------------------------------ the admin


def test_the_admin_device_page_says_the_location_is_unknown(nowhere):
    response = login(UserFactory(is_staff=True, is_superuser=True)).get(
        reverse("admin:devices_device_change", args=[nowhere.device_id])
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.instance.location_known is False
    assert '<div class="readonly">unknown</div>' in response.content.decode()


def test_the_admin_device_page_shows_a_known_location(device):
    response = login(UserFactory(is_staff=True, is_superuser=True)).get(
        reverse("admin:devices_device_change", args=[device.device_id])
    )

    assert '<div class="readonly">52.52, 13.405</div>' in response.content.decode()


def test_the_admin_refuses_half_a_location_on_the_change_form(device):
    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:devices_device_change", args=[device.device_id])
    page = client.get(url)
    data = {name: value for name, value in change_form_data(page).items() if name != "latitude"}

    response = client.post(url, data)

    assert response.status_code == 200
    assert PAIR_MESSAGE in str(response.context["adminform"].form.errors)
    assert Device.objects.get().location_known


def test_the_admin_empties_both_coordinates_to_an_unknown_location(device):
    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:devices_device_change", args=[device.device_id])
    data = {
        name: value
        for name, value in change_form_data(client.get(url)).items()
        if name not in ("latitude", "longitude")
    }

    assert client.post(url, data).status_code == 302

    assert Device.objects.get().location_known is False


def test_the_csv_export_leaves_an_unknown_location_empty(nowhere):
    client = login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:devices_device_changelist"),
        {"action": "export_csv", "index": 0, ACTION_CHECKBOX_NAME: [nowhere.device_id]},
    )

    header, row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (row[header.index("latitude")], row[header.index("longitude")]) == ("", "")
