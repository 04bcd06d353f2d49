"""Registrations of one MAC arriving at once (a device retrying, a fleet rebooting) against the
real PostgreSQL: one device, one config, every caller answered with the same device id."""

import threading

import pytest
from rest_framework.test import APIClient

from config.credentials import credential_digest
from devices import registration
from devices.models import ConfigChange, Device, DeviceConfig, DeviceEvent, Owner
from tests.concurrency import THREADS, all_at_once
from tests.factories import measurement_type, next_mac, registration_payload

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_mac_registered_from_many_threads_over_http_is_one_device(owner):
    payload = registration_payload(owner=owner, mac_address=next_mac())

    def register():
        response = APIClient().post(
            "/api/v1/devices/register/", payload, format="json", HTTP_X_PROVISIONING_SECRET=owner.secret
        )
        return response.status_code, response.json()

    results = all_at_once(register)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert {body["device_id"] for _, body in results} == {Device.objects.get().device_id}
    assert sum(body["is_new"] for _, body in results) == 1
    assert DeviceConfig.objects.count() == 1
    assert ConfigChange.objects.count() == 1
    assert DeviceEvent.objects.count() == THREADS
    # Every caller got its own key; the one stored is the last registration's.
    keys = {body["device_key"] for _, body in results}
    assert len(keys) == THREADS
    assert Device.objects.get().key_digest in {credential_digest(key) for key in keys}


def test_one_mac_in_different_notations_registered_at_once_through_the_service(owner):
    notations = ["5e:cf:7f:a:b:c", "5E-CF-7F-0A-0B-0C", "5ecf.7f0a.0b0c", "5ECF7F0A0B0C"] * 2
    mtype = measurement_type()
    turn = iter(notations)
    lock = threading.Lock()

    def register():
        with lock:
            mac = next(turn)
        return registration.device_register(
            mac_address=mac, owner=owner, measurement_type=mtype, city="Berlin", latitude=52.5, longitude=13.4
        )

    registrations = all_at_once(register, n=len(notations))

    assert Device.objects.count() == 1
    assert DeviceConfig.objects.count() == 1
    assert {r.device.device_id for r in registrations} == {Device.objects.get().device_id}
    assert [r.is_new for r in registrations].count(True) == 1


def test_different_macs_registered_at_once_are_all_created(owner):
    payloads = [registration_payload(owner=owner) for _ in range(THREADS)]
    lock = threading.Lock()

    def register():
        with lock:
            payload = payloads.pop()
        return (
            APIClient()
            .post("/api/v1/devices/register/", payload, format="json", HTTP_X_PROVISIONING_SECRET=owner.secret)
            .status_code
        )

    assert all_at_once(register) == [201] * THREADS
    assert Device.objects.count() == DeviceConfig.objects.count() == THREADS


def test_devices_of_a_new_lab_owner_booting_at_once_all_get_that_owner():
    """In the `open` legacy mode the first registration creates the owner; the others that
    arrive at the same moment must find it rather than fail."""

    def authorize():
        return registration.registration_owner_authorize(owner_slug="new-lab", secret=None, legacy_mode="open")

    owners = all_at_once(authorize)

    assert Owner.objects.filter(slug="new-lab").count() == 1
    assert {owner.pk for owner in owners} == {Owner.objects.get(slug="new-lab").pk}
