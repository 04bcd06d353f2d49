"""What every seed-compatible path shares: the off mode answers 404 on each of them, a body that is
not a JSON object is a 400 in FastAPI's shape, and the schema documents them as deprecated."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from devices.models import Device
from tests.devices.legacy.helpers import ARDUINO_DEVICE_ID, assert_detail, registration_body
from tests.factories import UserFactory, next_mac

pytestmark = pytest.mark.django_db


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
