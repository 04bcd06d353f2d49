"""Device search: the admin's search box and the management API's `?search=` are one selector
(`devices.selectors.device_search`) and find the same devices for every search."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from devices.models import Device
from tests.factories import OwnerFactory, UserFactory, register_device

pytestmark = pytest.mark.django_db

DEVICE_CHANGELIST = reverse("admin:devices_device_changelist")


@pytest.fixture
def fleet():
    owner = OwnerFactory()
    return {
        "moscow-bme": register_device(owner=owner, city="Москва", sensor_model="Bosch BME680"),
        "moscow-dht": register_device(owner=owner, city="Москва", sensor_model="DHT22"),
        "petersburg": register_device(
            owner=owner, city="Санкт-Петербург", sensor_model="Sensirion SCD41", mac_address="5E:CF:7F:0A:0B:0C"
        ),
        "berlin": register_device(owner=owner, city="Berlin", sensor_model="BME280"),
    }


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def api_client():
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    return client


def found_in_the_admin(client, search: str) -> set[str]:
    response = client.get(DEVICE_CHANGELIST, {"q": search})
    assert response.status_code == 200
    return {device.device_id for device in response.context["cl"].result_list}


def found_by_the_api(client, search: str) -> set[str]:
    response = client.get("/api/v1/devices/", {"search": search})
    assert response.status_code == 200, response.content
    return {row["device_id"] for row in response.json()["results"]}


SEARCHES = [
    ("moskva", ["moscow-bme", "moscow-dht"]),  # the city's topic slug
    ("MOSK", ["moscow-bme", "moscow-dht"]),  # part of it, any case
    ("Москва", ["moscow-bme", "moscow-dht"]),  # the city as stored
    ("sankt-peterburg", ["petersburg"]),
    ('"Санкт Петербург"', ["petersburg"]),  # a quoted phrase is one word; its slug matches
    ("peterburg", ["petersburg"]),
    ("bme", ["moscow-bme", "berlin"]),  # part of the sensor model
    ("scd41", ["petersburg"]),
    ("moskva bme680", ["moscow-bme"]),  # every word must match
    ("5e-cf-7f-0a-0b-0c", ["petersburg"]),  # a MAC in any notation
    ("5ecf.7f0a.0b0c", ["petersburg"]),
    ("5E:CF:7F", ["petersburg"]),  # part of the stored MAC
    ("nowhere", []),
    ("", ["moscow-bme", "moscow-dht", "petersburg", "berlin"]),
]


@pytest.mark.parametrize(("search", "expected"), SEARCHES)
def test_the_admin_and_the_api_find_the_same_devices(admin_client, api_client, fleet, search, expected):
    wanted = {fleet[name].device_id for name in expected}

    assert found_in_the_admin(admin_client, search) == wanted
    assert found_by_the_api(api_client, search) == wanted


def test_a_device_is_found_by_its_id_or_the_start_of_it(admin_client, api_client, fleet):
    device_id = fleet["berlin"].device_id
    prefix = device_id[:8]
    expected = {d.device_id for d in fleet.values() if d.device_id.startswith(prefix)}

    for search in (device_id, device_id.upper(), prefix):
        assert found_in_the_admin(admin_client, search) >= {device_id}
        assert found_by_the_api(api_client, search) == (expected if search == prefix else {device_id})


def test_a_nul_character_in_the_api_search_is_a_400(api_client, fleet):
    response = api_client.get("/api/v1/devices/", {"search": "mosk\x00va"})

    assert response.status_code == 400
    assert response.json() == {"detail": "The query string contains a NUL character."}


def test_a_search_costs_the_same_queries_for_5_devices_as_for_40_in_5_cities(api_client):
    owner = OwnerFactory()
    cities = ["Москва", "Санкт-Петербург", "Новосибирск", "Иркутск", "Berlin"]

    def search_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            found_by_the_api(api_client, "moskva")
        return len(queries)

    for i in range(5):
        register_device(owner=owner, city=cities[i % 5])
    with_5 = search_queries()
    for i in range(35):
        register_device(owner=owner, city=cities[i % 5])
    with_40 = search_queries()

    assert Device.objects.count() == 40
    assert with_40 == with_5
