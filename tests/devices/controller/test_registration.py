"""Device registration: a new MAC gets 201, a device key, its topics and a config whose defaults come
from the owner, else the measurement type, else the settings; a known MAC gets 200, the same id
and a new key; the owner's provisioning secret, through its rotation, decides who may register."""

import datetime as dt

import pytest
from django.utils import timezone

from config.credentials import credential_digest
from devices import services
from devices.identity import device_id_for_mac
from devices.models import ConfigChange, Device, DeviceConfig, MeasurementType
from tests.devices.controller.helpers import (
    as_device,
    assert_json_error,
    nothing_registered,
    register,
    topics_url,
)
from tests.factories import OwnerFactory, next_mac, registration_payload

pytestmark = pytest.mark.django_db

# ------------------------------------------------------------------------------ registration


def test_a_new_mac_is_registered_with_201_key_topics_and_config(owner):
    mac = "5e:cf:7f:a:b:c"
    response = register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret)

    assert response.status_code == 201
    body = response.json()
    device_id = device_id_for_mac(mac)
    base = f"{owner.slug}/berlin/temperature/{device_id}"
    assert set(body) == {"device_id", "device_key", "is_new", "topics", "config"}
    assert body["device_id"] == device_id
    assert body["is_new"] is True
    assert body["topics"] == {"telemetry": base, "config": f"{base}/config", "status": f"{base}/status"}
    assert set(body["config"]) == {"send_interval", "qos", "version", "updated_at"}
    assert body["config"]["version"] == 1
    device = Device.objects.get()
    assert device.mac_address == "5E:CF:7F:0A:0B:0C"
    assert device.owner == owner
    assert DeviceConfig.objects.filter(device=device).count() == 1
    # Only the digest of the key is kept.
    assert device.key_digest == credential_digest(body["device_key"])
    assert body["device_key"] not in device.key_digest


def test_every_notation_of_one_mac_reaches_the_same_device(owner):
    first = register(registration_payload(owner=owner, mac_address="5e:cf:7f:a:b:c"), secret=owner.secret)
    again = register(registration_payload(owner=owner, mac_address="5ECF.7F0A.0B0C"), secret=owner.secret)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["device_id"] == first.json()["device_id"]
    assert Device.objects.count() == 1


def test_a_known_mac_gets_200_the_same_id_and_a_new_key_while_the_old_key_stops_working(
    owner, django_capture_on_commit_callbacks
):
    payload = registration_payload(owner=owner)
    first = register(payload, secret=owner.secret).json()
    old_key = first["device_key"]
    assert as_device(old_key).get(topics_url(first["device_id"])).status_code == 200  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        response = register(payload, secret=owner.secret)

    assert response.status_code == 200
    body = response.json()
    assert body["is_new"] is False
    assert body["device_id"] == first["device_id"]
    assert body["device_key"] != old_key
    assert as_device(body["device_key"]).get(topics_url(body["device_id"])).status_code == 200
    assert as_device(old_key).get(topics_url(body["device_id"])).status_code == 401
    assert Device.objects.count() == 1


def test_registering_again_updates_the_metadata_and_keeps_the_config(owner):
    mac = next_mac()
    register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret)

    response = register(
        registration_payload(
            owner=owner,
            mac_address=mac,
            city="München",
            latitude=48.137,
            longitude=11.575,
            measurement_type="humidity",
            sensor_model="BME280",
        ),
        secret=owner.secret,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["topics"]["telemetry"] == f"{owner.slug}/munchen/humidity/{body['device_id']}"
    assert body["config"]["version"] == 1
    device = Device.objects.get()
    assert (device.city, device.latitude, device.longitude, device.measurement_type.slug, device.sensor_model) == (
        "München",
        48.137,
        11.575,
        "humidity",
        "BME280",
    )
    assert ConfigChange.objects.filter(device=device, kind=ConfigChange.Kind.CONFIG).count() == 1
    move = ConfigChange.objects.get(device=device, kind=ConfigChange.Kind.TOPIC)
    assert (move.old["topic"], move.new["topic"], move.source, move.changed_by) == (
        f"{owner.slug}/berlin/temperature/{device.device_id}",
        body["topics"]["telemetry"],
        ConfigChange.Source.REGISTRATION,
        None,
    )


def test_a_new_device_takes_its_config_defaults_from_the_owner_first():
    owner = OwnerFactory(default_send_interval=300, default_qos=0)
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=900, default_qos=2)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (300, 0)


def test_without_owner_defaults_the_measurement_type_gives_the_config(owner):
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=900, default_qos=2)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (900, 2)


def test_without_owner_or_type_defaults_the_settings_give_the_config(owner, settings):
    settings.DEVICES_DEFAULT_SEND_INTERVAL = 45
    settings.DEVICES_DEFAULT_QOS = 2
    MeasurementType.objects.filter(slug="temperature").update(default_send_interval=None, default_qos=None)

    config = register(registration_payload(owner=owner), secret=owner.secret).json()["config"]

    assert (config["send_interval"], config["qos"]) == (45, 2)


def test_a_missing_provisioning_secret_is_401_and_creates_nothing(owner):
    body = assert_json_error(register(registration_payload(owner=owner)), 401)

    assert "X-Provisioning-Secret" in body["detail"]
    assert nothing_registered()


def test_a_wrong_provisioning_secret_is_403_and_creates_nothing(owner):
    other = OwnerFactory()

    assert_json_error(register(registration_payload(owner=owner), secret="not-the-secret"), 403)
    assert_json_error(register(registration_payload(owner=owner), secret=other.secret), 403)
    assert nothing_registered()


def test_an_unknown_owner_is_403_and_creates_nothing(owner):
    body = assert_json_error(register(registration_payload(owner="no-such-owner"), secret=owner.secret), 403)

    assert body == {"detail": "Unknown owner or wrong provisioning secret."}
    assert nothing_registered()


def test_an_owner_that_allows_it_accepts_registrations_without_a_secret():
    owner = OwnerFactory(allow_secretless_registration=True)

    assert register(registration_payload(owner=owner)).status_code == 201
    # A secret that is sent must still be the right one.
    assert_json_error(register(registration_payload(owner=owner), secret="wrong"), 403)


def test_after_rotation_the_new_secret_works_and_the_previous_one_only_during_the_grace_period(owner):
    original = owner.secret
    rotated = services.owner_rotate_secret(owner=owner)

    assert register(registration_payload(owner=owner), secret=rotated).status_code == 201
    assert register(registration_payload(owner=owner), secret=original).status_code == 201

    owner.refresh_from_db()
    owner.previous_secret_valid_until = timezone.now() - dt.timedelta(seconds=1)
    owner.save(update_fields=["previous_secret_valid_until"])

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)
    assert register(registration_payload(owner=owner), secret=rotated).status_code == 201


def test_a_grace_period_of_zero_retires_the_previous_secret_at_once(owner, settings):
    settings.DEVICES_SECRET_ROTATION_GRACE_SECONDS = 0
    original = owner.secret
    services.owner_rotate_secret(owner=owner)

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)


def test_a_second_rotation_retires_the_secret_before_the_previous_one(owner):
    original = owner.secret
    services.owner_rotate_secret(owner=owner)
    services.owner_rotate_secret(owner=owner)

    assert_json_error(register(registration_payload(owner=owner), secret=original), 403)


def test_a_mac_of_another_owner_is_409_and_the_device_stays_where_it_was(owner):
    mac = next_mac()
    first = register(registration_payload(owner=owner, mac_address=mac), secret=owner.secret).json()
    intruder = OwnerFactory()

    body = assert_json_error(
        register(registration_payload(owner=intruder, mac_address=mac), secret=intruder.secret), 409
    )

    assert "another owner" in body["detail"]
    device = Device.objects.get()
    assert device.owner == owner
    assert device.key_digest == credential_digest(first["device_key"])


def test_a_deactivated_device_registering_again_is_403_and_stays_deactivated(owner):
    payload = registration_payload(owner=owner)
    register(payload, secret=owner.secret)
    services.devices_deactivate(device_ids=[Device.objects.get().device_id])

    body = assert_json_error(register(payload, secret=owner.secret), 403)

    assert "deactivated" in body["detail"]
    assert not Device.objects.get().is_active
