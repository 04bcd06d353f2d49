"""The services every write goes through (API, legacy API, admin, tasks): their rules hold
whoever calls them."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.errors import AuthenticationFailed, Conflict, DomainError, NotFound, PermissionDenied
from devices import boot_cache, registration, services
from devices.controller.authentication import DevicePrincipal
from devices.identity import device_id_for_mac
from devices.models import ConfigChange, Device, DeviceConfig, DeviceEvent, MeasurementType, Owner
from tests.factories import OwnerFactory, measurement_type, next_mac, register_device

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------ owners


def test_an_owner_is_created_with_a_secret_of_which_only_the_digest_is_kept():
    owner, secret = services.owner_create(name="Acme Sensors")

    assert owner.slug == "acme-sensors"
    assert len(secret) >= 40
    assert owner.provisioning_secret_digest == credential_digest(secret)
    assert secret not in Owner.objects.values_list("provisioning_secret_digest", flat=True).get()


def test_two_owners_get_different_secrets():
    _, first = services.owner_create(name="A")
    _, second = services.owner_create(name="B")

    assert first != second


@pytest.mark.parametrize("name", ["", "!!!", "   "])
def test_an_owner_needs_a_usable_slug(name):
    with pytest.raises(DomainError) as raised:
        services.owner_create(name=name)

    assert raised.value.field == "slug"


def test_an_owner_slug_is_unique(owner):
    with pytest.raises(DomainError, match="already exists"):
        services.owner_create(name="Copy", slug=owner.slug)


def test_rotation_keeps_the_previous_secret_for_the_grace_period(owner, settings):
    settings.DEVICES_SECRET_ROTATION_GRACE_SECONDS = 3600
    before = timezone.now()

    new = services.owner_rotate_secret(owner=owner)

    owner.refresh_from_db()
    assert services.owner_secret_matches(owner, new)
    assert services.owner_secret_matches(owner, owner.secret)
    assert owner.secret_rotated_at >= before
    assert owner.previous_secret_valid_until - owner.secret_rotated_at == dt.timedelta(hours=1)


def test_the_previous_secret_stops_matching_when_the_grace_period_ends(owner):
    services.owner_rotate_secret(owner=owner)
    owner.refresh_from_db()
    owner.previous_secret_valid_until = timezone.now() - dt.timedelta(seconds=1)

    assert not services.owner_secret_matches(owner, owner.secret)


@pytest.mark.parametrize("secret", [None, "", "wrong"])
def test_no_secret_or_a_wrong_one_never_matches(owner, secret):
    assert not services.owner_secret_matches(owner, secret)


# ----------------------------------------------------------------------- registration policy


def test_the_owners_secret_authorizes_a_registration(owner):
    assert registration.registration_owner_authorize(owner_slug=owner.slug, secret=owner.secret) == owner


@pytest.mark.parametrize(
    ("slug", "secret", "error"),
    [
        ("known", None, AuthenticationFailed),
        ("known", "", AuthenticationFailed),
        ("known", "wrong", PermissionDenied),
        ("unknown", None, AuthenticationFailed),
        ("unknown", "anything", PermissionDenied),
    ],
)
def test_registration_without_the_right_secret_is_refused(slug, secret, error):
    OwnerFactory(slug="known")

    with pytest.raises(error):
        registration.registration_owner_authorize(owner_slug=slug, secret=secret)


def test_an_owner_that_allows_it_takes_registrations_without_a_secret():
    owner = OwnerFactory(allow_secretless_registration=True)

    assert registration.registration_owner_authorize(owner_slug=owner.slug, secret=None) == owner


def test_an_unknown_owner_is_created_only_in_the_open_legacy_mode():
    with pytest.raises(AuthenticationFailed):
        registration.registration_owner_authorize(owner_slug="lab", secret=None, legacy_mode="known-owners")

    owner = registration.registration_owner_authorize(owner_slug="lab", secret=None, legacy_mode="open")

    assert owner.slug == "lab"
    assert owner.allow_secretless_registration


def test_an_unknown_measurement_type_names_the_known_ones():
    with pytest.raises(DomainError) as raised:
        services.measurement_type_resolve(slug="radiation")

    assert raised.value.field == "measurement_type"
    assert all(slug in raised.value.detail for slug in MeasurementType.objects.values_list("slug", flat=True))


def test_a_measurement_type_is_created_on_demand_only_when_asked_and_well_formed():
    assert services.measurement_type_resolve(slug="radiation", create=True).slug == "radiation"
    with pytest.raises(DomainError):
        services.measurement_type_resolve(slug="Not A Slug", create=True)


# ------------------------------------------------------------------------------- registration


def register(owner, mac: str, **fields) -> registration.Registration:
    return registration.device_register(
        mac_address=mac,
        owner=owner,
        measurement_type=fields.pop("measurement_type", measurement_type()),
        city=fields.pop("city", "Berlin"),
        latitude=fields.pop("latitude", 52.5),
        longitude=fields.pop("longitude", 13.4),
        **fields,
    )


def test_registration_creates_the_device_its_config_history_and_an_event(owner):
    registration = register(owner, "5e:cf:7f:a:b:c")

    device = registration.device
    assert registration.is_new
    assert device.device_id == device_id_for_mac("5E:CF:7F:0A:0B:0C")
    assert DeviceConfig.objects.filter(device=device, version=1).exists()
    change = ConfigChange.objects.get(device=device)
    assert (change.version, change.source, change.old) == (1, ConfigChange.Source.REGISTRATION, {})
    event = DeviceEvent.objects.get(device=device)
    assert event.kind == DeviceEvent.Kind.REGISTERED
    assert event.dispatched_at is None
    assert event.payload == {
        "device_id": device.device_id,
        "owner": owner.slug,
        "city": "Berlin",
        "measurement_type": "temperature",
        "sensor_model": "",
        "latitude": 52.5,
        "longitude": 13.4,
        "is_new": True,
    }


def test_registering_a_known_mac_again_finds_the_device_and_issues_a_new_key(owner):
    mac = next_mac()
    first = register(owner, mac)

    again = register(owner, mac.lower(), city="Paris")

    assert not again.is_new
    assert again.device.pk == first.device.pk
    assert again.device_key != first.device_key
    stored = Device.objects.get()
    assert stored.key_digest == credential_digest(again.device_key)
    assert stored.city == "Paris"
    assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.REGISTERED).count() == 2
    assert DeviceEvent.objects.order_by("created_at").last().payload["is_new"] is False


def test_a_mac_of_another_owner_is_a_conflict_and_changes_nothing(owner):
    mac = next_mac()
    first = register(owner, mac)

    with pytest.raises(Conflict):
        register(OwnerFactory(), mac, city="Elsewhere")

    stored = Device.objects.get()
    assert (stored.owner, stored.city, stored.key_digest) == (owner, "Berlin", credential_digest(first.device_key))
    assert DeviceEvent.objects.count() == 1


def test_an_owner_qos_of_zero_is_a_default_too():
    owner = OwnerFactory(default_qos=0)
    MeasurementType.objects.filter(slug="temperature").update(default_qos=2)

    assert register(owner, next_mac()).device.config.qos == 0


def test_registration_rejects_a_malformed_mac(owner):
    with pytest.raises(ValueError):
        register(owner, "not-a-mac")
    assert not Device.objects.exists()


# ----------------------------------------------------------------------------------- devices


def test_only_the_metadata_of_a_device_can_be_updated(device):
    with pytest.raises(DomainError, match="mac_address"):
        services.device_update(device=device, mac_address="02:00:00:00:00:99")

    updated = services.device_update(device=device, city="Paris", sensor_model="BME280")

    assert (updated.city, updated.sensor_model) == ("Paris", "BME280")


def test_updating_deleting_and_deactivating_drop_the_cached_records(owner, django_capture_on_commit_callbacks):
    updated, deleted, deactivated = (register_device(owner=owner) for _ in range(3))
    deleted_id = deleted.device_id
    for device in (updated, deleted, deactivated):
        assert boot_cache.boot_record(device.device_id) is not None

    with django_capture_on_commit_callbacks(execute=True):
        services.device_update(device=updated, city="Paris")
        services.device_delete(device=deleted)
        assert services.devices_deactivate(device_ids=[deactivated.device_id]) == 1

    assert boot_cache.boot_record(updated.device_id)["topics"]["telemetry"].split("/")[1] == "paris"
    assert boot_cache.boot_record(deleted_id) is None
    assert boot_cache.boot_record(deactivated.device_id)["is_active"] is False


def test_deactivating_counts_only_devices_that_were_active(owner):
    devices = [register_device(owner=owner) for _ in range(3)]
    services.devices_deactivate(device_ids=[devices[0].device_id])

    assert services.devices_deactivate(device_ids=[d.device_id for d in devices]) == 2


def test_activating_counts_only_devices_that_were_inactive(owner):
    devices = [register_device(owner=owner) for _ in range(3)]
    services.devices_deactivate(device_ids=[d.device_id for d in devices[:2]])

    assert services.devices_activate(device_ids=[d.device_id for d in devices]) == 2
    assert Device.objects.filter(is_active=True).count() == 3


def test_an_activated_device_is_served_and_registers_again(owner, django_capture_on_commit_callbacks):
    device = register_device(owner=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.key}")
    with django_capture_on_commit_callbacks(execute=True):
        services.devices_deactivate(device_ids=[device.device_id])
    assert client.get(f"/api/v1/devices/{device.device_id}/topics/").status_code == 403  # refused, from the cache

    with django_capture_on_commit_callbacks(execute=True):
        assert services.devices_activate(device_ids=[device.device_id]) == 1

    assert boot_cache.boot_record(device.device_id)["is_active"] is True
    assert client.get(f"/api/v1/devices/{device.device_id}/topics/").status_code == 200
    again = registration.device_register(
        mac_address=device.mac_address,
        owner=owner,
        measurement_type=device.measurement_type,
        city="Berlin",
        latitude=52.52,
        longitude=13.405,
    )
    assert again.device.device_id == device.device_id and not again.is_new


def test_renaming_an_owner_drops_the_cached_topics_of_its_devices(device, django_capture_on_commit_callbacks):
    boot_cache.boot_record(device.device_id)

    with django_capture_on_commit_callbacks(execute=True):
        services.owner_update(owner=device.owner, slug="renamed")

    assert boot_cache.boot_record(device.device_id)["topics"]["telemetry"].startswith("renamed/")


def test_renaming_a_measurement_type_drops_the_cached_topics_of_its_devices(device, django_capture_on_commit_callbacks):
    boot_cache.boot_record(device.device_id)

    with django_capture_on_commit_callbacks(execute=True):
        services.measurement_type_update(measurement_type=device.measurement_type, slug="air-temperature")

    assert boot_cache.boot_record(device.device_id)["topics"]["telemetry"].split("/")[2] == "air-temperature"


def test_owners_and_measurement_types_change_only_what_may_change(device):
    with pytest.raises(DomainError, match="provisioning_secret_digest"):
        services.owner_update(owner=device.owner, provisioning_secret_digest="x")
    with pytest.raises(DomainError, match="id"):
        services.measurement_type_update(measurement_type=device.measurement_type, id=99)


# ------------------------------------------------------------------------------------ config


def test_a_config_change_bumps_the_version_and_records_history_and_an_event(device, staff_user):
    config = services.config_update(device=device, send_interval=120, qos=2, changed_by=staff_user)

    assert (config.version, config.send_interval, config.qos, config.updated_by) == (2, 120, 2, staff_user)
    change = ConfigChange.objects.get(device=device, version=2)
    assert (change.old, change.new, change.changed_by, change.source) == (
        {"send_interval": 60, "qos": 1},
        {"send_interval": 120, "qos": 2},
        staff_user,
        "api",
    )
    event = DeviceEvent.objects.get(kind=DeviceEvent.Kind.CONFIG_CHANGED)
    assert event.payload["version"] == 2
    assert (event.payload["old"], event.payload["new"]) == (change.old, change.new)


def test_a_change_that_changes_nothing_keeps_the_version(device, staff_user):
    config = services.config_update(device=device, send_interval=60, qos=1, changed_by=staff_user)

    assert config.version == 1
    assert ConfigChange.objects.count() == 1
    assert not DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CONFIG_CHANGED).exists()


@pytest.mark.parametrize(("field", "value"), [("send_interval", 0), ("send_interval", 86_401), ("qos", 3), ("qos", -1)])
def test_a_config_out_of_bounds_is_refused(device, field, value):
    with pytest.raises(DomainError) as raised:
        services.config_update(device=device, **{field: value})

    assert raised.value.field == field
    assert DeviceConfig.objects.get().version == 1


@pytest.mark.parametrize("who", [None, "anonymous", "device"])
def test_a_change_by_no_user_records_nobody(device, who):
    changed_by = {
        None: None,
        "anonymous": AnonymousUser(),
        "device": DevicePrincipal(device_id=device.device_id, record={}),
    }[who]

    config = services.config_update(device=device, qos=0, changed_by=changed_by)

    assert config.updated_by is None
    assert ConfigChange.objects.get(version=2).changed_by is None


def test_a_bulk_change_goes_through_each_config_and_counts_the_changed_ones(owner, staff_user):
    devices = [register_device(owner=owner) for _ in range(3)]
    services.config_update(device=devices[0], send_interval=30)

    changed = services.configs_bulk_update(
        device_ids=[d.device_id for d in devices], send_interval=30, changed_by=staff_user
    )

    assert changed == 2
    assert sorted(DeviceConfig.objects.values_list("version", flat=True)) == [2, 2, 2]
    assert ConfigChange.objects.filter(source=ConfigChange.Source.BULK).count() == 2


def test_a_bulk_change_out_of_bounds_changes_nothing(owner):
    device = register_device(owner=owner)

    with pytest.raises(DomainError):
        services.configs_bulk_update(device_ids=[device.device_id], qos=7)
    assert DeviceConfig.objects.get().version == 1


def test_the_applied_version_is_recorded_and_checked(device):
    services.config_update(device=device, qos=0)

    services.config_mark_applied(device_id=device.device_id, version=2)
    with pytest.raises(DomainError, match="never issued"):
        services.config_mark_applied(device_id=device.device_id, version=3)
    with pytest.raises(NotFound):
        services.config_mark_applied(device_id="0123456789abcdef", version=1)

    assert DeviceConfig.objects.get().is_applied


def test_a_device_deleted_in_bulk_loses_its_cached_record(owner, django_capture_on_commit_callbacks):
    device_ids = [register_device(owner=owner).device_id for _ in range(2)]
    for device_id in device_ids:
        assert boot_cache.boot_record(device_id) is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert services.devices_delete(device_ids=device_ids) == 2

    assert all(boot_cache.boot_record(device_id) is None for device_id in device_ids)


def test_a_deactivated_device_stays_deactivated_when_it_registers_again(owner):
    mac = next_mac()
    first = register(owner, mac)
    services.devices_deactivate(device_ids=[first.device.device_id])

    with pytest.raises(PermissionDenied, match="deactivated"):
        register(owner, mac, city="Paris")

    stored = Device.objects.get()
    assert (stored.is_active, stored.city, stored.key_digest) == (False, "Berlin", credential_digest(first.device_key))
    assert DeviceEvent.objects.count() == 1


def test_an_owner_slug_taken_inside_a_transaction_leaves_the_transaction_usable(owner):
    with transaction.atomic():
        with pytest.raises(DomainError):
            services.owner_create(name="Copy", slug=owner.slug)
        assert Owner.objects.filter(slug=owner.slug).exists()
