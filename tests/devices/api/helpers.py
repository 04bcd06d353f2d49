"""Clients and calls shared by the management API tests: a user's token, and the topics the
device-facing API serves a device (which a change on the management API must move at once)."""

from rest_framework.test import APIClient

from config.tokens import api_token_issue

DEVICES = "/api/v1/devices/"


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def as_user(user) -> APIClient:
    return with_token(api_token_issue(user=user))


def device_topics(device) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    response = client.get(f"{DEVICES}{device.device_id}/topics/")
    assert response.status_code == 200, response.content
    return response.json()
