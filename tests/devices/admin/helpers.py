"""Steps on the admin shared by its tests: the device changelist and running an action on selected
devices there, the messages a page shows, and the topics the device API then serves a device."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from devices.models import Device

DEVICE_CHANGELIST = reverse("admin:devices_device_changelist")


def device_api_topics(device: Device) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    response = client.get(f"/api/v1/devices/{device.device_id}/topics/")
    assert response.status_code == 200, response.content
    return response.json()


def run_action(client: Client, action: str, devices, url: str = DEVICE_CHANGELIST, **extra):
    data = {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [d.device_id for d in devices], **extra}
    return client.post(url, data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]
