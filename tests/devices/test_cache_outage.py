"""The device API while the cache (Redis) cannot be reached, and after it answers again: nothing
answers an error, devices are served from the database, and a change whose invalidation could not
run does not leave its stale record behind once the cache is back."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from devices import boot_cache, services
from devices.models import Device, StaleDeliveryRecord
from tests.factories import registration_payload

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit hooks run as in production

REGISTER = "/api/v1/devices/register/"
CLOSED_PORT = "127.0.0.1:1"  # nothing listens here: every connection is refused


@pytest.fixture
def cache_down(settings):
    """A context in which the cache is a Redis nobody answers, as when Redis restarts."""
    unreachable = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://{CLOSED_PORT}/0"}}
    if "Redis" not in settings.CACHES["default"]["BACKEND"]:
        pytest.fail("these tests need the Redis cache (REDIS_URL)")
    return override_settings(CACHES=unreachable)


def register(owner, **payload):
    return APIClient().post(
        REGISTER, registration_payload(owner=owner, **payload), format="json", HTTP_X_PROVISIONING_SECRET=owner.secret
    )


def fetch(device_id: str, key: str, what: str = "topics"):
    return APIClient().get(f"/api/v1/devices/{device_id}/{what}/", HTTP_AUTHORIZATION=f"Device {key}")


def test_a_registration_while_the_cache_is_down_is_saved_and_answered_201(owner, cache_down):
    with cache_down:
        response = register(owner)

    assert response.status_code == 201
    device_id = response.json()["device_id"]
    assert Device.objects.filter(device_id=device_id).exists()
    assert StaleDeliveryRecord.objects.filter(device_id=device_id).exists()


def test_devices_are_served_from_the_database_while_the_cache_is_down(owner, cache_down):
    body = register(owner).json()

    with cache_down:
        topics = fetch(body["device_id"], body["device_key"])
        config = fetch(body["device_id"], body["device_key"], "config")
        wrong = fetch(body["device_id"], "not-the-key")

    assert topics.status_code == 200 and topics.json() == body["topics"]
    assert config.status_code == 200 and config.json()["version"] == 1
    assert wrong.status_code == 401


def test_a_change_made_while_the_cache_was_down_is_repaired_once_it_answers(owner, cache_down):
    first = register(owner).json()
    assert fetch(first["device_id"], first["device_key"]).status_code == 200  # cached, with this key

    with cache_down:
        again = register(owner, mac_address=_mac_of(first["device_id"]), city="Potsdam")
    assert again.status_code == 200
    new_key = again.json()["device_key"]

    # Back: the record cached before the outage still holds the old key until the repair runs.
    assert boot_cache.boot_invalidations_retry() == 1
    refreshed = fetch(first["device_id"], new_key)
    assert refreshed.status_code == 200
    assert refreshed.json()["telemetry"].split("/")[1] == "potsdam"
    assert fetch(first["device_id"], first["device_key"]).status_code == 401
    assert not StaleDeliveryRecord.objects.exists()


def test_the_repair_waits_while_the_cache_is_still_down(owner, cache_down):
    with cache_down:
        register(owner)
        with pytest.raises(Exception):  # the beat task fails, and tries again at its next run
            boot_cache.boot_invalidations_retry()

    assert StaleDeliveryRecord.objects.count() == 1


def test_an_update_while_the_cache_is_down_is_noted_and_repaired(owner, device, cache_down):
    with cache_down:
        services.device_update(device=device, sensor_model="BME280")

    assert StaleDeliveryRecord.objects.filter(device_id=device.device_id).exists()
    assert boot_cache.boot_invalidations_retry() == 1
    assert not StaleDeliveryRecord.objects.exists()


def test_a_note_made_while_a_repair_runs_is_kept_for_the_next_one(device):
    later = timezone.now() + dt.timedelta(seconds=5)  # noted after this repair started
    StaleDeliveryRecord.objects.create(device_id=device.device_id, noted_at=later)

    boot_cache.boot_invalidations_retry()

    assert StaleDeliveryRecord.objects.filter(device_id=device.device_id).exists()


def _mac_of(device_id: str) -> str:
    return Device.objects.get(device_id=device_id).mac_address
