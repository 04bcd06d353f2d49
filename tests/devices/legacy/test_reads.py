"""The seed-compatible reads: POST /device_by_mac/, GET /devices, /device/{id}, /topics/{id} and
/configs/{id} answer the original's shapes; a device of an owner requiring a secret looks unknown
unless the secret, a viewer's token or the open mode reveals it."""

import pytest
from django.utils.dateparse import parse_datetime

from tests.devices.legacy.helpers import (
    ARDUINO_DEVICE_ID,
    ARDUINO_MAC,
    CANONICAL_MAC,
    assert_detail,
    legacy_shape,
    token_client,
)
from tests.factories import next_mac, register_device

pytestmark = pytest.mark.django_db


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
