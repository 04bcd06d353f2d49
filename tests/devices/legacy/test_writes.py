"""The seed-compatible writes: PUT /device/{id}, DELETE /device/{id} and POST /configs/{id} need a
user with the model permission (in the open mode nobody), refuse invalid changes with 400 and
record who changed a config."""

import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from devices.models import ConfigChange, Device
from tests.devices.legacy.helpers import (
    ARDUINO_DEVICE_ID,
    ARDUINO_MAC,
    assert_detail,
    legacy_shape,
    registration_body,
    token_client,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


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
