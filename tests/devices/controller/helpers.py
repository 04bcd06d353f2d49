"""Calls of the device-facing API as a device, a user or staff make them, and the shape of its
refusals (JSON with the right status, never a 500)."""

from rest_framework.test import APIClient

from config.tokens import api_token_issue
from devices.models import Device, DeviceConfig, DeviceEvent

REGISTER = "/api/v1/devices/register/"


def topics_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/topics/"


def config_url(device_id: str) -> str:
    return f"/api/v1/devices/{device_id}/config/"


def register(payload: dict, *, secret: str | None = None, client: APIClient | None = None):
    headers = {"HTTP_X_PROVISIONING_SECRET": secret} if secret is not None else {}
    return (client or APIClient()).post(REGISTER, payload, format="json", **headers)


def as_device(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def as_token_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def nothing_registered() -> bool:
    return not (Device.objects.exists() or DeviceConfig.objects.exists() or DeviceEvent.objects.exists())
