"""Online/offline status: a device silent for too long goes offline (device.offline), and
comes back online (device.online) when it next calls in."""

import datetime as dt

import pytest
from django.utils import timezone

from devices import services
from devices.models import Device, DeviceEvent
from tests.factories import register_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def detection(settings):
    settings.DEVICES_OFFLINE_AFTER_SECONDS = 300
    settings.DEVICES_OFFLINE_AFTER_INTERVALS = 3
    return settings


def silent_for(device: Device, seconds: int) -> Device:
    Device.objects.filter(pk=device.pk).update(last_seen=timezone.now() - dt.timedelta(seconds=seconds))
    device.refresh_from_db()
    return device


def events(device: Device, kind: str) -> int:
    return DeviceEvent.objects.filter(device=device, kind=kind).count()


def test_a_registered_device_is_online_and_seen(owner):
    device = register_device(owner=owner)

    assert device.is_online
    assert device.last_seen is not None


def test_detection_is_off_unless_configured(owner):
    device = silent_for(register_device(owner=owner), 10 * 24 * 3600)

    assert services.devices_mark_offline() == 0
    device.refresh_from_db()
    assert device.is_online


def test_a_device_silent_past_its_allowance_goes_offline_with_an_event(owner, detection):
    device = silent_for(register_device(owner=owner), 301)  # send interval 60 s: allowance 300 s

    assert services.devices_mark_offline() == 1

    device.refresh_from_db()
    assert not device.is_online
    event = DeviceEvent.objects.get(device=device, kind="device.offline")
    assert event.payload["device_id"] == device.device_id
    assert event.payload["last_seen"] is not None


def test_the_allowance_grows_with_the_send_interval(owner, detection):
    device = register_device(owner=owner)
    services.config_update(device=device, send_interval=600)  # allowance 3 × 600 s
    silent_for(device, 1000)

    assert services.devices_mark_offline() == 0

    silent_for(device, 1801)
    assert services.devices_mark_offline() == 1


def test_recently_seen_and_deactivated_devices_stay_as_they_are(owner, detection):
    recent = silent_for(register_device(owner=owner), 30)
    retired = silent_for(register_device(owner=owner), 10_000)
    services.devices_deactivate(device_ids=[retired.device_id])

    assert services.devices_mark_offline() == 0
    assert Device.objects.filter(pk__in=[recent.pk, retired.pk], is_online=True).count() == 2


def test_going_offline_is_reported_once(owner, detection):
    device = silent_for(register_device(owner=owner), 1000)

    services.devices_mark_offline()
    services.devices_mark_offline()

    assert events(device, "device.offline") == 1


def test_an_offline_device_that_calls_in_comes_back_online_once(owner, detection):
    device = silent_for(register_device(owner=owner), 1000)
    services.devices_mark_offline()

    assert services.device_mark_online(device_id=device.device_id) is True
    assert services.device_mark_online(device_id=device.device_id) is False

    device.refresh_from_db()
    assert device.is_online
    assert events(device, "device.online") == 1


def test_an_offline_device_that_registers_again_comes_back_online(owner, detection):
    device = silent_for(register_device(owner=owner), 1000)
    services.devices_mark_offline()

    register_device(owner=owner, mac_address=device.mac_address)

    device.refresh_from_db()
    assert device.is_online
    assert events(device, "device.online") == 1


def test_an_offline_device_fetching_its_config_comes_back_online(owner, detection, api_client):
    device = register_device(owner=owner)
    key = device.key
    silent_for(device, 1000)
    services.devices_mark_offline()

    response = api_client.get(f"/api/v1/devices/{device.device_id}/config/", HTTP_AUTHORIZATION=f"Device {key}")

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.is_online
    assert events(device, "device.online") == 1


def test_the_beat_task_runs_the_detector(owner, detection):
    from devices.tasks import detect_offline_devices

    silent_for(register_device(owner=owner), 1000)

    assert detect_offline_devices() == 1
