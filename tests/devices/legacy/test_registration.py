"""The seed-compatible POST /register/: the original course server's path and JSON shape, under
the known-owners mode (owners that allow it, or their provisioning secret) and the open mode
(owners and types created on first use, the original's defaults), down to the firmware's own body."""

import pytest
from rest_framework.test import APIClient

from devices.models import Device, MeasurementType, Owner
from tests.devices.legacy.helpers import ARDUINO_DEVICE_ID, ARDUINO_MAC, CANONICAL_MAC, assert_detail, registration_body
from tests.factories import OwnerFactory, register_device

pytestmark = pytest.mark.django_db

# Byte for byte what the original course firmware (RegistrationClient.h) posts to /register/: the
# location nested, no top-level coordinates, no height.
FIRMWARE_BODY = (
    '{"mac_address":"5E:CF:7F:A:B:C","location":{"lat":52.0,"lon":104.0},"city":"Irkutsk",'
    '"owner":"IoTSchool","measurement_type":"temperature","sensor_model":"T1000"}'
)
FIRMWARE_TOPIC = f"iotschool/irkutsk/temperature/{ARDUINO_DEVICE_ID}"


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
