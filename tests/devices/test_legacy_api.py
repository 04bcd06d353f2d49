"""The seed-compatible device API: the original course server's paths and JSON shapes, under
the three DEVICES_LEGACY_API modes (off, known-owners, open)."""

import hashlib
import json

import pytest
from django.utils.dateparse import parse_datetime
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.tokens import api_token_issue
from devices.models import ConfigChange, Device, MeasurementType, Owner
from tests.factories import OwnerFactory, UserFactory, measurement_type, next_mac, register_device

pytestmark = pytest.mark.django_db

ARDUINO_MAC = "5e:cf:7f:a:b:c"
CANONICAL_MAC = "5E:CF:7F:0A:0B:0C"
ARDUINO_DEVICE_ID = hashlib.sha256(CANONICAL_MAC.encode()).hexdigest()[:16]

# Byte for byte what the original course firmware (RegistrationClient.h) posts to /register/: the
# location nested, no top-level coordinates, no height.
FIRMWARE_BODY = (
    '{"mac_address":"5E:CF:7F:A:B:C","location":{"lat":52.0,"lon":104.0},"city":"Irkutsk",'
    '"owner":"IoTSchool","measurement_type":"temperature","sensor_model":"T1000"}'
)
FIRMWARE_TOPIC = f"iotschool/irkutsk/temperature/{ARDUINO_DEVICE_ID}"


def registration_body(**overrides) -> dict:
    """What the original firmware posts to /register/."""
    return {
        "longitude": 13.405,
        "latitude": 52.52,
        "height": 34.0,
        "city": "Berlin",
        "owner": "acme-labs",
        "measurement_type": "temperature",
        "sensor_model": "DHT22",
        "mac_address": ARDUINO_MAC,
        **overrides,
    }


def token_client(*permissions: str) -> APIClient:
    client = APIClient()
    user = UserFactory(permissions=list(permissions))
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    client.user = user
    return client


def legacy_shape(device: Device) -> dict:
    return {
        "device_id": device.device_id,
        "mac_address": device.mac_address,
        "latitude": device.latitude,
        "longitude": device.longitude,
        "height": device.height,
        "city": device.city,
        "owner": device.owner.slug,
        "measurement_type": device.measurement_type.slug,
        "sensor_model": device.sensor_model,
    }


def assert_detail(response, status: int, detail: str | None = None) -> None:
    """Every legacy error is FastAPI's `{"detail": "<text>"}`."""
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str) and body["detail"]
    if detail is not None:
        assert body["detail"] == detail


@pytest.fixture(autouse=True)
def _temperature():
    """The type the firmware reports; a migration seeds it, but a transactional test elsewhere may
    have flushed it."""
    measurement_type("temperature")


@pytest.fixture
def acme():
    """The owner of the course firmware's devices: it accepts registration without a secret."""
    return OwnerFactory(name="Acme Labs", slug="acme-labs", allow_secretless_registration=True)


@pytest.fixture
def guarded():
    """An owner whose devices must present its provisioning secret."""
    return OwnerFactory(name="Guarded", slug="guarded", allow_secretless_registration=False)


@pytest.fixture
def acme_device(acme):
    return register_device(owner=acme, mac_address=CANONICAL_MAC)


@pytest.fixture
def guarded_device(guarded):
    return register_device(owner=guarded)


@pytest.fixture
def open_mode(settings):
    settings.DEVICES_LEGACY_API = "open"


# ------------------------------------------------------------------- POST /register/


class TestRegisterKnownOwners:
    def test_answers_200_with_device_id_and_telemetry_topic(self, api_client, acme):
        response = api_client.post("/register/", registration_body(), format="json")

        assert response.status_code == 200
        assert response.json() == {
            "device_id": ARDUINO_DEVICE_ID,
            "topic": f"acme-labs/berlin/temperature/{ARDUINO_DEVICE_ID}",
        }
        device = Device.objects.get()
        assert (device.mac_address, device.owner, device.height, device.sensor_model) == (
            CANONICAL_MAC,
            acme,
            34.0,
            "DHT22",
        )

    def test_issues_no_device_key(self, api_client, acme):
        response = api_client.post("/register/", registration_body(), format="json")

        assert "device_key" not in response.json()

    def test_unpadded_arduino_mac_and_padded_mac_are_one_device(self, api_client, acme):
        unpadded = api_client.post("/register/", registration_body(mac_address=ARDUINO_MAC), format="json")
        padded = api_client.post("/register/", registration_body(mac_address=CANONICAL_MAC), format="json")

        assert unpadded.json()["device_id"] == padded.json()["device_id"] == ARDUINO_DEVICE_ID
        assert Device.objects.count() == 1

    def test_registering_a_known_mac_again_answers_200_with_the_same_id_and_topic(self, api_client, acme):
        first = api_client.post("/register/", registration_body(), format="json")
        again = api_client.post("/register/", registration_body(), format="json")

        assert again.status_code == 200
        assert again.json() == first.json()
        assert Device.objects.count() == 1

    def test_registering_again_updates_the_metadata_and_the_topic(self, api_client, acme):
        api_client.post("/register/", registration_body(), format="json")
        again = api_client.post("/register/", registration_body(city="Hamburg"), format="json")

        assert again.json()["topic"] == f"acme-labs/hamburg/temperature/{ARDUINO_DEVICE_ID}"
        assert Device.objects.get().city == "Hamburg"

    def test_unknown_extra_fields_and_a_nested_location_beside_top_level_coordinates_are_ignored(
        self, api_client, acme
    ):
        body = registration_body(location={"lat": 1, "name": {"nested": True}}, firmware="1.0")

        response = api_client.post("/register/", body, format="json")

        assert response.status_code == 200
        assert (Device.objects.get().latitude, Device.objects.get().longitude) == (52.52, 13.405)

    def test_an_owner_name_as_old_firmware_sends_it_finds_the_owner_by_slug(self, api_client, acme):
        response = api_client.post("/register/", registration_body(owner="Acme Labs"), format="json")

        assert response.status_code == 200
        assert Device.objects.get().owner == acme

    def test_measurement_type_names_are_reduced_to_slugs(self, api_client, acme):
        response = api_client.post("/register/", registration_body(measurement_type="Temperature"), format="json")

        assert response.json()["topic"].split("/")[2] == "temperature"

    def test_sensor_model_and_height_may_be_left_out(self, api_client, acme):
        body = registration_body()
        del body["sensor_model"], body["height"]

        assert api_client.post("/register/", body, format="json").status_code == 200
        assert Device.objects.get().height is None

    def test_refuses_an_owner_that_requires_a_secret_with_401_and_creates_nothing(self, api_client, guarded):
        response = api_client.post("/register/", registration_body(owner="guarded"), format="json")

        assert_detail(response, 401)
        assert "X-Provisioning-Secret" in response.json()["detail"]
        assert not Device.objects.exists()

    def test_refuses_an_unknown_owner_with_401_and_creates_no_owner(self, api_client):
        response = api_client.post("/register/", registration_body(owner="nobody"), format="json")

        assert_detail(response, 401)
        assert not Owner.objects.filter(slug="nobody").exists()

    def test_accepts_an_owner_that_requires_a_secret_when_the_secret_is_sent(self, api_client, guarded):
        response = api_client.post(
            "/register/", registration_body(owner="guarded"), format="json", HTTP_X_PROVISIONING_SECRET=guarded.secret
        )

        assert response.status_code == 200
        assert Device.objects.get().owner == guarded

    def test_refuses_a_wrong_secret_with_403(self, api_client, guarded):
        response = api_client.post(
            "/register/", registration_body(owner="guarded"), format="json", HTTP_X_PROVISIONING_SECRET="wrong"
        )

        assert_detail(response, 403)
        assert not Device.objects.exists()

    def test_refuses_an_unknown_measurement_type_without_creating_it(self, api_client, acme):
        response = api_client.post("/register/", registration_body(measurement_type="radiation"), format="json")

        assert_detail(response, 400)
        assert response.json()["detail"].startswith("measurement_type: Unknown measurement type 'radiation'")
        assert not MeasurementType.objects.filter(slug="radiation").exists()

    def test_a_mac_of_another_owner_answers_409(self, api_client, acme, guarded):
        register_device(owner=guarded, mac_address=CANONICAL_MAC)

        response = api_client.post("/register/", registration_body(), format="json")

        assert_detail(response, 409)
        assert Device.objects.get().owner == guarded

    @pytest.mark.parametrize(
        ("overrides", "detail"),
        [
            ({"mac_address": None}, "mac_address: This field may not be null."),
            ({"mac_address": "5e:cf:7f:a:b"}, None),
            ({"latitude": 91}, "latitude: Ensure this value is less than or equal to 90."),
            ({"longitude": -181}, "longitude: Ensure this value is greater than or equal to -180."),
            ({"latitude": "north"}, "latitude: A valid number is required."),
            ({"latitude": "NaN"}, "latitude: A valid number is required."),
            ({"height": "Infinity"}, "height: A valid number is required."),
            ({"latitude": 10**400}, None),
            ({"city": ""}, "city: This field may not be blank."),
            ({"city": "x" * 101}, "city: Ensure this field has no more than 100 characters."),
            ({"owner": "!!!"}, "owner: Use at least one letter or digit."),
            ({"owner": "a" * 65}, None),
            ({"owner": {"name": "acme-labs"}}, "owner: Not a valid string."),
            ({"measurement_type": ["temperature"]}, "measurement_type: Not a valid string."),
            ({"sensor_model": True}, None),
            ({"city": "Ber\u0000lin"}, "city: Null characters are not allowed."),
            ({"mac_address": "5e:cf:7f:a:b:\u0000"}, None),
        ],
    )
    def test_invalid_fields_answer_400_naming_the_field(self, api_client, acme, overrides, detail):
        response = api_client.post("/register/", registration_body(**overrides), format="json")

        assert_detail(response, 400, detail)
        assert response.json()["detail"].split(":")[0] == next(iter(overrides))
        assert not Device.objects.exists()

    def test_a_missing_field_answers_400_naming_it(self, api_client, acme):
        body = registration_body()
        del body["mac_address"]

        assert_detail(api_client.post("/register/", body, format="json"), 400, "mac_address: This field is required.")


class TestRegisterOpen:
    def test_creates_the_owner_on_first_use_accepting_secretless_registration(self, api_client, open_mode):
        response = api_client.post("/register/", registration_body(owner="New Lab"), format="json")

        assert response.status_code == 200
        assert response.json()["topic"].startswith("new-lab/")
        owner = Owner.objects.get(slug="new-lab")
        assert owner.allow_secretless_registration
        assert Device.objects.get().owner == owner

    def test_creates_an_unknown_measurement_type_on_first_use(self, api_client, acme, open_mode):
        response = api_client.post("/register/", registration_body(measurement_type="radiation"), format="json")

        assert response.status_code == 200
        assert Device.objects.get().measurement_type == MeasurementType.objects.get(slug="radiation")

    def test_accepts_an_owner_that_would_otherwise_require_a_secret(self, api_client, guarded, open_mode):
        response = api_client.post("/register/", registration_body(owner="guarded"), format="json")

        assert response.status_code == 200

    def test_still_refuses_a_wrong_secret(self, api_client, guarded, open_mode):
        response = api_client.post(
            "/register/", registration_body(owner="guarded"), format="json", HTTP_X_PROVISIONING_SECRET="wrong"
        )

        assert_detail(response, 403)


# ------------------------------------------------ the original course firmware's body


def post_firmware_body(client: APIClient):
    return client.generic("POST", "/register/", FIRMWARE_BODY, content_type="application/json")


@pytest.fixture
def iot_school():
    """The firmware's owner, set up as the known-owners mode needs it."""
    return OwnerFactory(name="IoT School", slug="iotschool", allow_secretless_registration=True)


class TestOriginalFirmwareBody:
    def test_known_owners_registers_it_into_an_owner_that_allows_it_with_the_nested_location(
        self, api_client, iot_school
    ):
        response = post_firmware_body(api_client)

        assert response.status_code == 200, response.content
        assert response.json() == {"device_id": ARDUINO_DEVICE_ID, "topic": FIRMWARE_TOPIC}
        device = Device.objects.get()
        assert (device.owner, device.city, device.latitude, device.longitude, device.sensor_model) == (
            iot_school,
            "Irkutsk",
            52.0,
            104.0,
            "T1000",
        )

    def test_the_height_it_does_not_send_is_unknown_not_the_originals_428(self, api_client, iot_school):
        post_firmware_body(api_client)

        assert Device.objects.get().height is None

    def test_known_owners_refuses_it_while_its_owner_is_unknown_and_creates_nothing(self, api_client):
        response = post_firmware_body(api_client)

        assert_detail(response, 401)
        assert not Device.objects.exists() and not Owner.objects.exists()

    def test_open_registers_it_creating_its_owner(self, api_client, open_mode):
        response = post_firmware_body(api_client)

        assert response.status_code == 200
        assert response.json() == {"device_id": ARDUINO_DEVICE_ID, "topic": FIRMWARE_TOPIC}
        assert (Device.objects.get().latitude, Device.objects.get().longitude) == (52.0, 104.0)
        assert Owner.objects.get().slug == "iotschool"

    def test_off_answers_404(self, settings, api_client, iot_school):
        settings.DEVICES_LEGACY_API = "off"

        assert_detail(post_firmware_body(api_client), 404, "Not found.")
        assert not Device.objects.exists()

    def test_every_boot_registers_the_same_device_again(self, api_client, iot_school):
        first, again = post_firmware_body(api_client), post_firmware_body(api_client)

        assert first.json() == again.json()
        assert Device.objects.count() == 1


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


class TestOriginalDefaults:
    """The original server's defaults for a missing owner, city and measurement type apply only
    where the mode may create what they name (`open`); elsewhere the field is required."""

    @staticmethod
    def body_without(*fields: str) -> dict:
        return {key: value for key, value in registration_body().items() if key not in fields}

    def test_open_fills_in_lyceum_bratsk_and_temperature(self, api_client, open_mode):
        response = api_client.post("/register/", self.body_without("owner", "city", "measurement_type"), format="json")

        assert response.status_code == 200
        assert response.json()["topic"] == f"lyceum/bratsk/temperature/{ARDUINO_DEVICE_ID}"
        device = Device.objects.get()
        assert (device.owner.slug, device.city, device.measurement_type.slug) == ("lyceum", "Bratsk", "temperature")
        assert device.owner.allow_secretless_registration

    def test_open_fills_in_only_what_is_missing(self, api_client, open_mode):
        response = api_client.post("/register/", self.body_without("city"), format="json")

        assert response.json()["topic"] == f"acme-labs/bratsk/temperature/{ARDUINO_DEVICE_ID}"

    @pytest.mark.parametrize("field", ["owner", "city", "measurement_type"])
    def test_known_owners_requires_each_of_them(self, api_client, acme, field):
        # Even with an owner "lyceum" that would accept the device.
        OwnerFactory(slug="lyceum", allow_secretless_registration=True)

        response = api_client.post("/register/", self.body_without(field), format="json")

        assert_detail(response, 400, f"{field}: This field is required.")
        assert not Device.objects.exists()

    @pytest.mark.parametrize("mode", ["known-owners", "open"])
    def test_a_missing_mac_is_400_in_every_mode_never_the_originals_default(self, settings, api_client, acme, mode):
        settings.DEVICES_LEGACY_API = mode

        response = api_client.post("/register/", self.body_without("mac_address"), format="json")

        assert_detail(response, 400, "mac_address: This field is required.")
        assert not Device.objects.exists()

    def test_an_update_takes_no_defaults(self, acme_device, open_mode):
        response = APIClient().put(f"/device/{acme_device.device_id}", {"sensor_model": "T1000"}, format="json")

        assert response.status_code == 200
        assert (response.json()["owner"], response.json()["city"]) == ("acme-labs", "Berlin")


# -------------------------------------------------------------- POST /device_by_mac/


class TestDeviceByMac:
    def test_answers_the_device_in_the_legacy_shape(self, api_client, acme_device):
        response = api_client.post("/device_by_mac/", {"mac_address": CANONICAL_MAC}, format="json")

        assert response.status_code == 200
        assert response.json() == {
            "device_id": ARDUINO_DEVICE_ID,
            "mac_address": CANONICAL_MAC,
            "latitude": 52.52,
            "longitude": 13.405,
            "height": None,
            "city": "Berlin",
            "owner": "acme-labs",
            "measurement_type": "temperature",
            "sensor_model": "DHT22",
        }

    def test_finds_the_device_by_the_unpadded_arduino_mac(self, api_client, acme_device):
        response = api_client.post("/device_by_mac/", {"mac_address": ARDUINO_MAC}, format="json")

        assert response.json()["device_id"] == ARDUINO_DEVICE_ID

    def test_an_unknown_mac_answers_404(self, api_client, acme_device):
        response = api_client.post("/device_by_mac/", {"mac_address": next_mac()}, format="json")

        assert_detail(response, 404, "Device not found")

    def test_an_invalid_mac_answers_400(self, api_client):
        response = api_client.post("/device_by_mac/", {"mac_address": "not-a-mac"}, format="json")

        assert_detail(response, 400)
        assert response.json()["detail"].startswith("mac_address: ")

    def test_a_device_of_an_owner_requiring_a_secret_looks_unknown(self, api_client, guarded_device):
        response = api_client.post("/device_by_mac/", {"mac_address": guarded_device.mac_address}, format="json")

        assert_detail(response, 404, "Device not found")

    def test_the_owners_secret_reveals_its_device(self, api_client, guarded, guarded_device):
        response = api_client.post(
            "/device_by_mac/",
            {"mac_address": guarded_device.mac_address},
            format="json",
            HTTP_X_PROVISIONING_SECRET=guarded.secret,
        )

        assert response.json()["device_id"] == guarded_device.device_id

    def test_a_user_who_may_view_devices_sees_every_device(self, guarded_device):
        client = token_client("devices.view_device")

        response = client.post("/device_by_mac/", {"mac_address": guarded_device.mac_address}, format="json")

        assert response.status_code == 200

    def test_open_mode_shows_every_device(self, api_client, guarded_device, open_mode):
        response = api_client.post("/device_by_mac/", {"mac_address": guarded_device.mac_address}, format="json")

        assert response.status_code == 200


# --------------------------------------------------------------------- GET /devices


class TestDeviceList:
    def test_lists_the_owners_devices_in_the_legacy_shape(self, api_client, acme, acme_device, guarded_device):
        other = register_device(owner=acme, city="Hamburg")

        response = api_client.get("/devices", {"owner": "acme-labs"})

        assert response.status_code == 200
        assert sorted(response.json(), key=lambda d: d["device_id"]) == sorted(
            [legacy_shape(acme_device), legacy_shape(other)], key=lambda d: d["device_id"]
        )

    def test_the_owner_may_be_given_by_name(self, api_client, acme_device):
        response = api_client.get("/devices", {"owner": "Acme Labs"})

        assert [d["device_id"] for d in response.json()] == [acme_device.device_id]

    def test_without_an_owner_answers_400(self, api_client, acme_device):
        assert_detail(
            api_client.get("/devices"), 400, "owner: This query parameter is required, e.g. /devices?owner=acme."
        )

    def test_an_owner_requiring_a_secret_answers_like_an_unknown_owner(self, api_client, guarded_device):
        assert api_client.get("/devices", {"owner": "guarded"}).json() == []
        assert api_client.get("/devices", {"owner": "nobody"}).json() == []

    def test_the_owners_secret_lists_its_devices(self, api_client, guarded, guarded_device):
        response = api_client.get("/devices", {"owner": "guarded"}, HTTP_X_PROVISIONING_SECRET=guarded.secret)

        assert [d["device_id"] for d in response.json()] == [guarded_device.device_id]

    def test_open_mode_lists_any_owners_devices(self, api_client, guarded_device, open_mode):
        assert len(api_client.get("/devices", {"owner": "guarded"}).json()) == 1


# --------------------------------------------------- reads: device, topics, configs


def read_paths(device_id: str) -> list[str]:
    return [f"/device/{device_id}", f"/topics/{device_id}", f"/configs/{device_id}"]


class TestReads:
    def test_device_answers_the_legacy_shape(self, api_client, acme_device):
        response = api_client.get(f"/device/{acme_device.device_id}")

        assert response.status_code == 200
        assert response.json() == legacy_shape(acme_device)

    def test_topics_answers_the_telemetry_topic(self, api_client, acme_device):
        response = api_client.get(f"/topics/{acme_device.device_id}")

        assert response.json() == {"topic": f"acme-labs/berlin/temperature/{ARDUINO_DEVICE_ID}"}

    def test_configs_answers_cadence_qos_and_when_it_last_changed(self, api_client, acme_device):
        response = api_client.get(f"/configs/{acme_device.device_id}")

        config = acme_device.config
        body = response.json()
        assert set(body) == {"data_cadence", "qos", "last_updated"}
        assert (body["data_cadence"], body["qos"]) == (config.send_interval, config.qos)
        assert parse_datetime(body["last_updated"]) == config.updated_at

    @pytest.mark.parametrize(
        "path",
        read_paths("0123456789abcdef") + read_paths("x" * 300) + read_paths("%F0%9F%92%A9"),
    )
    def test_an_unknown_device_answers_404(self, api_client, acme_device, path):
        assert_detail(api_client.get(path), 404, "Device not found")

    @pytest.mark.parametrize("path", read_paths("%00" * 16) + read_paths("a%00b"))
    def test_a_nul_byte_in_the_device_id_is_refused_cleanly(self, api_client, path):
        response = api_client.get(path)

        assert_detail(response, response.status_code)
        assert response.status_code in (400, 404)

    def test_devices_of_an_owner_requiring_a_secret_look_unknown(self, api_client, guarded_device):
        for path in read_paths(guarded_device.device_id):
            assert_detail(api_client.get(path), 404, "Device not found")

    def test_the_owners_secret_or_a_viewer_token_reveals_them(self, api_client, guarded, guarded_device):
        viewer = token_client("devices.view_device")
        for path in read_paths(guarded_device.device_id):
            assert api_client.get(path, HTTP_X_PROVISIONING_SECRET=guarded.secret).status_code == 200
            assert viewer.get(path).status_code == 200

    def test_open_mode_reads_any_device(self, api_client, guarded_device, open_mode):
        for path in read_paths(guarded_device.device_id):
            assert api_client.get(path).status_code == 200

    def test_paths_have_no_trailing_slash_and_are_not_redirected(self, api_client, acme_device):
        assert api_client.get(f"/topics/{acme_device.device_id}").status_code == 200
        assert api_client.get("/devices", {"owner": "acme-labs"}).status_code == 200


# ------------------------------------------------------------ PUT /device/{device_id}


class TestDeviceUpdate:
    def test_needs_an_authenticated_user(self, api_client, acme_device):
        response = api_client.put(f"/device/{acme_device.device_id}", {"city": "Hamburg"}, format="json")

        assert_detail(response, 401)
        acme_device.refresh_from_db()
        assert acme_device.city == "Berlin"

    def test_needs_the_change_device_permission(self, acme_device):
        response = token_client("devices.view_device").put(
            f"/device/{acme_device.device_id}", {"city": "Hamburg"}, format="json"
        )

        assert_detail(response, 403)

    def test_changes_the_device_and_answers_it_in_the_legacy_shape(self, api_client, acme_device):
        client = token_client("devices.change_device")

        response = client.put(
            f"/device/{acme_device.device_id}", registration_body(city="Hamburg", latitude=53.55), format="json"
        )

        assert response.status_code == 200
        acme_device.refresh_from_db()
        assert response.json() == legacy_shape(acme_device)
        assert (acme_device.city, acme_device.latitude) == ("Hamburg", 53.55)
        assert api_client.get(f"/topics/{ARDUINO_DEVICE_ID}").json()["topic"].startswith("acme-labs/hamburg/")

    def test_a_session_user_with_the_permission_may_change_it(self, acme_device):
        client = APIClient()
        client.force_login(UserFactory(permissions=["devices.change_device"]))

        response = client.put(f"/device/{acme_device.device_id}", {"sensor_model": "BME280"}, format="json")

        assert response.json()["sensor_model"] == "BME280"

    def test_a_permitted_user_reaches_devices_of_an_owner_requiring_a_secret(self, guarded_device):
        response = token_client("devices.change_device").put(
            f"/device/{guarded_device.device_id}", {"city": "Hamburg"}, format="json"
        )

        assert response.status_code == 200

    def test_moves_the_device_to_another_known_owner(self, acme_device, guarded):
        client = token_client("devices.change_device")

        response = client.put(f"/device/{acme_device.device_id}", {"owner": "Guarded"}, format="json")

        assert response.json()["owner"] == "guarded"

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"owner": "nobody"}, "owner: Unknown owner 'nobody'."),
            ({"mac_address": "02:00:00:00:00:01"}, None),
            ({"latitude": -91}, "latitude: Ensure this value is greater than or equal to -90."),
            ({"measurement_type": "radiation"}, None),
            ([], "Invalid data. Expected a dictionary, but got list."),
        ],
    )
    def test_invalid_changes_answer_400(self, acme_device, body, detail):
        client = token_client("devices.change_device")

        response = client.put(f"/device/{acme_device.device_id}", body, format="json")

        assert_detail(response, 400, detail)
        acme_device.refresh_from_db()
        assert acme_device.owner.slug == "acme-labs" and acme_device.latitude == 52.52

    def test_the_same_mac_in_another_notation_is_accepted(self, acme_device):
        response = token_client("devices.change_device").put(
            f"/device/{acme_device.device_id}", {"mac_address": ARDUINO_MAC}, format="json"
        )

        assert response.status_code == 200

    def test_an_unknown_device_answers_404(self):
        response = token_client("devices.change_device").put("/device/0123456789abcdef", {}, format="json")

        assert_detail(response, 404, "Device not found")

    def test_open_mode_needs_no_auth_and_creates_owner_and_type_on_first_use(self, api_client, acme_device, open_mode):
        response = api_client.put(
            f"/device/{acme_device.device_id}", {"owner": "Lab 2", "measurement_type": "radiation"}, format="json"
        )

        assert response.status_code == 200
        assert (response.json()["owner"], response.json()["measurement_type"]) == ("lab-2", "radiation")


# --------------------------------------------------------- DELETE /device/{device_id}


class TestDeviceDelete:
    def test_needs_an_authenticated_user(self, api_client, acme_device):
        assert_detail(api_client.delete(f"/device/{acme_device.device_id}"), 401)
        assert Device.objects.filter(pk=acme_device.pk).exists()

    def test_needs_the_delete_device_permission(self, acme_device):
        response = token_client("devices.change_device").delete(f"/device/{acme_device.device_id}")

        assert_detail(response, 403)
        assert Device.objects.filter(pk=acme_device.pk).exists()

    def test_deletes_the_device(self, api_client, acme_device):
        response = token_client("devices.delete_device").delete(f"/device/{acme_device.device_id}")

        assert response.status_code == 200
        assert response.json() == {"message": "Device deleted"}
        assert not Device.objects.filter(pk=acme_device.pk).exists()
        assert_detail(api_client.get(f"/topics/{acme_device.device_id}"), 404, "Device not found")

    def test_an_unknown_device_answers_404(self):
        response = token_client("devices.delete_device").delete("/device/0123456789abcdef")

        assert_detail(response, 404, "Device not found")

    def test_open_mode_needs_no_auth(self, api_client, acme_device, open_mode):
        assert api_client.delete(f"/device/{acme_device.device_id}").status_code == 200
        assert not Device.objects.exists()


# --------------------------------------------------------- POST /configs/{device_id}


class TestConfigUpdate:
    def test_needs_an_authenticated_user(self, api_client, acme_device):
        response = api_client.post(f"/configs/{acme_device.device_id}", {"data_cadence": 30}, format="json")

        assert_detail(response, 401)
        acme_device.config.refresh_from_db()
        assert acme_device.config.version == 1

    def test_needs_the_change_config_permission(self, acme_device):
        response = token_client("devices.change_device").post(
            f"/configs/{acme_device.device_id}", {"data_cadence": 30}, format="json"
        )

        assert_detail(response, 403)

    def test_sets_the_config_records_who_and_answers_it(self, acme_device):
        client = token_client("devices.change_deviceconfig")

        response = client.post(
            f"/configs/{acme_device.device_id}",
            {"data_cadence": 30, "qos": 2, "last_updated": "1999-01-01T00:00:00Z"},
            format="json",
        )

        assert response.status_code == 200
        config = acme_device.config
        config.refresh_from_db()
        assert (config.send_interval, config.qos, config.version) == (30, 2, 2)
        assert response.json() == {
            "data_cadence": 30,
            "qos": 2,
            "last_updated": response.json()["last_updated"],
        }
        assert parse_datetime(response.json()["last_updated"]) == config.updated_at
        change = ConfigChange.objects.get(device=acme_device, version=2)
        assert (change.source, change.changed_by) == (ConfigChange.Source.LEGACY, client.user)

    def test_one_field_alone_changes_only_that_field(self, acme_device):
        response = token_client("devices.change_deviceconfig").post(
            f"/configs/{acme_device.device_id}", {"qos": 0}, format="json"
        )

        assert (response.json()["data_cadence"], response.json()["qos"]) == (acme_device.config.send_interval, 0)

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"data_cadence": 0}, "data_cadence: Ensure this value is greater than or equal to 1."),
            ({"data_cadence": 86401}, "data_cadence: Ensure this value is less than or equal to 86400."),
            ({"data_cadence": 10**30}, "data_cadence: Ensure this value is less than or equal to 86400."),
            ({"data_cadence": "often"}, "data_cadence: A valid integer is required."),
            ({"data_cadence": 1.5}, "data_cadence: A valid integer is required."),
            ({"qos": 3}, 'qos: "3" is not a valid choice.'),
            ({"qos": -1}, 'qos: "-1" is not a valid choice.'),
            ({}, "Give data_cadence and/or qos."),
            ({"last_updated": "2020-01-01T00:00:00Z"}, "Give data_cadence and/or qos."),
            ("cadence", "Invalid data. Expected a dictionary, but got str."),
        ],
    )
    def test_invalid_configs_answer_400_and_change_nothing(self, acme_device, body, detail):
        client = token_client("devices.change_deviceconfig")

        response = client.post(f"/configs/{acme_device.device_id}", body, format="json")

        assert_detail(response, 400, detail)
        acme_device.config.refresh_from_db()
        assert acme_device.config.version == 1

    def test_open_mode_needs_no_auth(self, api_client, acme_device, open_mode):
        response = api_client.post(f"/configs/{acme_device.device_id}", {"data_cadence": 120}, format="json")

        assert response.json()["data_cadence"] == 120
        assert ConfigChange.objects.get(device=acme_device, version=2).changed_by is None


# ------------------------------------------------------------------------- off mode


OFF_REQUESTS = [
    ("post", "/register/"),
    ("post", "/device_by_mac/"),
    ("get", "/devices?owner=acme-labs"),
    ("get", f"/device/{ARDUINO_DEVICE_ID}"),
    ("put", f"/device/{ARDUINO_DEVICE_ID}"),
    ("delete", f"/device/{ARDUINO_DEVICE_ID}"),
    ("get", f"/topics/{ARDUINO_DEVICE_ID}"),
    ("get", f"/configs/{ARDUINO_DEVICE_ID}"),
    ("post", f"/configs/{ARDUINO_DEVICE_ID}"),
    ("patch", f"/configs/{ARDUINO_DEVICE_ID}"),
]


class TestOffMode:
    @pytest.mark.parametrize(("method", "path"), OFF_REQUESTS)
    def test_every_legacy_path_answers_404(self, settings, api_client, acme_device, method, path):
        settings.DEVICES_LEGACY_API = "off"
        admin = APIClient()
        admin.force_login(UserFactory(is_staff=True, is_superuser=True))

        for client in (api_client, admin):
            response = getattr(client, method)(path, registration_body(mac_address=next_mac()), format="json")
            assert_detail(response, 404, "Not found.")
        assert Device.objects.count() == 1

    def test_the_device_api_itself_is_untouched(self, settings, api_client, acme):
        settings.DEVICES_LEGACY_API = "off"
        body = {k: v for k, v in registration_body().items() if k != "height"}

        response = api_client.post("/api/v1/devices/register/", body, format="json")

        assert response.status_code == 201


# ----------------------------------------------------------------- bodies and garbage


class TestBodies:
    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            ("{not json", "application/json"),
            ('{"mac_address": NaN}', "application/json"),
            ('{"latitude": Infinity}', "application/json"),
            ("mac_address=5e:cf:7f:a:b:c", "application/x-www-form-urlencoded"),
            ("just text", "text/plain"),
            (b"\xff\xfe\x00garbage", "application/json"),
            ("1" * 5000, "application/json"),
        ],
    )
    @pytest.mark.parametrize("path", ["/register/", "/device_by_mac/"])
    def test_a_body_that_is_not_json_answers_400(self, api_client, acme, body, content_type, path):
        response = api_client.generic("POST", path, body, content_type=content_type)

        assert_detail(response, 400)
        assert not Device.objects.exists()

    def test_a_json_body_without_content_type_is_read_as_json_as_the_original_did(self, api_client, acme):

        response = api_client.generic("POST", "/register/", json.dumps(registration_body()), content_type="")

        assert response.status_code == 200

    @pytest.mark.parametrize("body", [[], [registration_body()], "register", 42, None, True])
    @pytest.mark.parametrize("path", ["/register/", "/device_by_mac/"])
    def test_a_json_body_that_is_not_an_object_answers_400(self, api_client, acme, body, path):

        response = api_client.generic("POST", path, json.dumps(body), content_type="application/json")

        assert_detail(response, 400)

    def test_an_empty_body_names_the_first_missing_field(self, api_client, acme):
        response = api_client.generic("POST", "/register/", "", content_type="application/json")

        assert_detail(response, 400)
        assert response.json()["detail"].endswith(": This field is required.")

    def test_an_unsupported_method_answers_405_in_json(self, api_client):
        assert_detail(api_client.get("/register/"), 405)


# --------------------------------------------------------------------------- schema


def test_the_legacy_operations_are_documented_as_deprecated_under_the_legacy_tag():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    legacy = {
        path: ops
        for path, ops in schema["paths"].items()
        if path.split("/")[1] in {"register", "device_by_mac", "devices", "device", "topics", "configs"}
    }
    assert set(legacy) == {
        "/register/",
        "/device_by_mac/",
        "/devices",
        "/device/{device_id}",
        "/topics/{device_id}",
        "/configs/{device_id}",
    }
    for ops in legacy.values():
        for operation in ops.values():
            assert operation["tags"] == ["legacy"] and operation["deprecated"] is True


def test_the_schema_says_the_location_may_be_unknown_and_may_come_nested():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    for coordinate in ("latitude", "longitude"):
        assert components["LegacyDevice"]["properties"][coordinate]["nullable"] is True
    register = components["LegacyDeviceInputRequest"]
    assert register["required"] == ["mac_address"]
    assert set(components["LegacyLocationRequest"]["required"]) == {"lat", "lon"}
