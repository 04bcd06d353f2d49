"""The location on the seed-compatible API: top-level coordinates or the firmware's nested
`location`, both or neither (the location is then unknown, and every read shows it as null)."""

import pytest

from devices.models import Device
from tests.devices.legacy.helpers import CANONICAL_MAC, assert_detail, legacy_shape, registration_body, token_client
from tests.factories import register_device

pytestmark = pytest.mark.django_db


class TestLocation:
    def test_no_location_at_all_is_stored_as_unknown(self, api_client, acme):
        body = registration_body()
        del body["latitude"], body["longitude"]

        response = api_client.post("/register/", body, format="json")

        assert response.status_code == 200
        device = Device.objects.get()
        assert (device.latitude, device.longitude, device.location_known) == (None, None, False)

    def test_a_null_location_is_no_location(self, api_client, acme):
        body = {key: value for key, value in registration_body().items() if key not in ("latitude", "longitude")}

        response = api_client.post("/register/", {**body, "location": None}, format="json")

        assert response.status_code == 200
        assert Device.objects.get().latitude is None

    @pytest.mark.parametrize(
        ("location", "detail"),
        [
            ({"lat": 91, "lon": 104}, "location.lat: Ensure this value is less than or equal to 90."),
            ({"lat": 52, "lon": "east"}, "location.lon: A valid number is required."),
            ({"lat": 52, "lon": "Infinity"}, "location.lon: A valid number is required."),
            ({"lat": 52}, "location.lon: This field is required."),
            ({}, "location.lat: This field is required."),
            ("Irkutsk", "location: Invalid data. Expected a dictionary, but got str."),
            ([52, 104], "location: Invalid data. Expected a dictionary, but got list."),
        ],
    )
    def test_a_nested_location_that_is_not_one_answers_400(self, api_client, acme, location, detail):
        body = {key: value for key, value in registration_body().items() if key not in ("latitude", "longitude")}

        response = api_client.post("/register/", {**body, "location": location}, format="json")

        assert_detail(response, 400, detail)
        assert not Device.objects.exists()

    @pytest.mark.parametrize(("given", "missing"), [("latitude", "longitude"), ("longitude", "latitude")])
    def test_half_a_top_level_location_answers_400(self, api_client, acme, given, missing):
        body = registration_body()
        del body[missing]

        response = api_client.post("/register/", body, format="json")

        assert_detail(
            response,
            400,
            f"{missing}: Give latitude and longitude together, or neither (the location is then unknown).",
        )

    def test_the_legacy_reads_show_an_unknown_location_as_null(self, api_client, acme):
        device = register_device(owner=acme, mac_address=CANONICAL_MAC, latitude=None, longitude=None)

        shapes = [
            api_client.get(f"/device/{device.device_id}").json(),
            api_client.post("/device_by_mac/", {"mac_address": CANONICAL_MAC}, format="json").json(),
            api_client.get("/devices", {"owner": "acme-labs"}).json()[0],
        ]

        for shape in shapes:
            assert (shape["latitude"], shape["longitude"]) == (None, None)
            assert shape == legacy_shape(device)

    def test_put_takes_the_nested_location_too(self, acme_device):
        response = token_client("devices.change_device").put(
            f"/device/{acme_device.device_id}", {"location": {"lat": 52.0, "lon": 104.0}}, format="json"
        )

        assert response.status_code == 200
        assert (response.json()["latitude"], response.json()["longitude"]) == (52.0, 104.0)

    def test_put_gives_a_device_of_unknown_location_one_only_as_a_pair(self, acme):
        device = register_device(owner=acme, latitude=None, longitude=None)
        client = token_client("devices.change_device")

        half = client.put(f"/device/{device.device_id}", {"latitude": 52.0}, format="json")
        half_nested = client.put(f"/device/{device.device_id}", {"location": {"lat": 52.0}}, format="json")
        whole = client.put(f"/device/{device.device_id}", {"latitude": 52.0, "longitude": 104.0}, format="json")

        assert_detail(
            half, 400, "longitude: Give latitude and longitude together, or neither (the location is then unknown)."
        )
        assert_detail(half_nested, 400, "location.lon: This field is required.")
        assert (whole.status_code, whole.json()["latitude"], whole.json()["longitude"]) == (200, 52.0, 104.0)
