"""What the seed-compatible API tests send and expect: the course firmware's MAC, the body it
registers with, a client with a user's token, the legacy device shape and FastAPI's error shape."""

import hashlib

from rest_framework.test import APIClient

from config.tokens import api_token_issue
from devices.models import Device
from tests.factories import UserFactory

ARDUINO_MAC = "5e:cf:7f:a:b:c"
CANONICAL_MAC = "5E:CF:7F:0A:0B:0C"
ARDUINO_DEVICE_ID = hashlib.sha256(CANONICAL_MAC.encode()).hexdigest()[:16]


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
