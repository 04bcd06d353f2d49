"""Registration: a device asks to join with its owner's provisioning secret (or its owner's
policy), and is registered — or found again by its MAC. The v1 device API and the legacy API
both call `device_provision`; refused secrets are counted by `devices.registration_throttle`."""

import dataclasses

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from config.credentials import credential_digest, credential_generate
from config.errors import AuthenticationFailed, Conflict, DomainError, PermissionDenied
from config.services import model_update
from devices import boot_cache, history, identity, outbox, registration_throttle, services, signals
from devices.models import ConfigChange, Device, DeviceConfig, DeviceEvent, MeasurementType, Owner

SECRET_HEADER_HINT = "Send the owner's provisioning secret in the X-Provisioning-Secret header."


@dataclasses.dataclass(frozen=True)
class Registration:
    """A registered device, its new key (shown once) and whether the MAC was new to the hub."""

    device: Device
    device_key: str
    is_new: bool


def _config_defaults(owner: Owner, mtype: MeasurementType) -> dict:
    return {
        "send_interval": owner.default_send_interval
        or mtype.default_send_interval
        or settings.DEVICES_DEFAULT_SEND_INTERVAL,
        "qos": next(q for q in (owner.default_qos, mtype.default_qos, settings.DEVICES_DEFAULT_QOS) if q is not None),
    }


@transaction.atomic
def device_register(
    *,
    mac_address: str,
    owner: Owner,
    measurement_type: MeasurementType,
    city: str,
    latitude: float | None,
    longitude: float | None,
    sensor_model: str = "",
    height: float | None = None,
) -> Registration:
    """Register a device, or find it again by its MAC (a device that lost its flash).

    Idempotent and safe under concurrency: the row lock serialises registrations of one MAC,
    and the unique MAC makes a racing insert fall back to the existing device. Every call
    issues a fresh device key; only its digest is kept.

    A location of None is unknown: a new device is stored without one, and a known device keeps
    the location (and height) it has, which an admin may have set. A registration that moves
    the device's topic (another city or measurement type) is recorded in its history.
    """
    services.location_pair_check(latitude, longitude)
    mac = identity.mac_canonical(mac_address)
    device_key = credential_generate()
    key_digest = credential_digest(device_key)
    metadata = {
        "owner": owner,
        "measurement_type": measurement_type,
        "city": city,
        "latitude": latitude,
        "longitude": longitude,
        "sensor_model": sensor_model,
        "height": height,
        "last_seen": timezone.now(),
    }
    device, is_new = Device.objects.select_for_update().get_or_create(
        mac_address=mac,
        defaults={"device_id": identity.device_id_for_mac(mac), "key_digest": key_digest, **metadata},
    )
    if is_new:
        _first_config_create(device, owner=owner, measurement_type=measurement_type)
        came_back_online = False
    else:
        came_back_online = _registered_again(device, metadata=metadata, key_digest=key_digest)
    # The answer is built once this commits, when the database may be gone: read its config now.
    device.config  # noqa: B018
    event = outbox.event_record(kind=DeviceEvent.Kind.REGISTERED, device=device, is_new=is_new)
    transaction.on_commit(lambda: boot_cache.boot_records_invalidate([device.device_id]))
    signals.device_registered.send(sender=Device, device=device, event=event, is_new=is_new)
    if came_back_online:
        outbox.status_event_send(device, is_online=True)
    return Registration(device=device, device_key=device_key, is_new=is_new)


def _first_config_create(device: Device, *, owner: Owner, measurement_type: MeasurementType) -> None:
    defaults = _config_defaults(owner, measurement_type)
    DeviceConfig.objects.create(device=device, **defaults)
    ConfigChange.objects.create(device=device, version=1, source=ConfigChange.Source.REGISTRATION, old={}, new=defaults)


def _registered_again(device: Device, *, metadata: dict, key_digest: str) -> bool:
    """A known MAC registers again (the locked row): same device, new key, the metadata sent (a
    location or height of None keeps the stored one), its topic move recorded. Returns whether it
    was offline."""
    owner, measurement_type = metadata["owner"], metadata["measurement_type"]
    if device.owner_id != owner.pk:
        # A secret of one owner must not take over another owner's device.
        raise Conflict("This MAC address is registered to another owner; an admin can move the device.")
    if not device.is_active:
        # Firmware registers at every boot: reactivating here would undo the admin's decision.
        raise PermissionDenied("This device is deactivated; an admin can reactivate it.")
    old_topic = _registration_old_topic(device, owner, measurement_type)
    # The relations are set, not compared: comparing would load the stored ones, a query each.
    device.owner, device.measurement_type = owner, measurement_type
    changes = {field: value for field, value in metadata.items() if field not in ("owner", "measurement_type")}
    if metadata["latitude"] is None:
        del changes["latitude"], changes["longitude"]
    if metadata["height"] is None:
        del changes["height"]
    model_update(instance=device, fields=changes, data=changes)
    device.key_digest = key_digest
    came_back_online = not device.is_online
    device.is_online = True
    device.save()
    history.topic_move_record(
        device_id=device.device_id, old=old_topic, new=_topic_of(device), source=ConfigChange.Source.REGISTRATION
    )
    return came_back_online


def _topic_of(device: Device) -> dict:
    return history.topic_snapshot(
        owner=device.owner.slug,
        city=device.city,
        measurement_type=device.measurement_type.slug,
        device_id=device.device_id,
    )


def _registration_old_topic(device: Device, owner: Owner, measurement_type: MeasurementType) -> dict:
    # A registration never changes the owner (that is a conflict); the old type is fetched only
    # when it did change, so that a plain reboot costs no extra query.
    old_type = measurement_type if device.measurement_type_id == measurement_type.pk else device.measurement_type
    return history.topic_snapshot(
        owner=owner.slug, city=device.city, measurement_type=old_type.slug, device_id=device.device_id
    )


def device_provision(
    *,
    client: str | None,
    owner_slug: str,
    secret: str | None,
    legacy_mode: str | None = None,
    measurement_type: str,
    **device,
) -> Registration:
    """What a registration request asks for: the owner authorized by its secret or policy (a
    refusal counted against `client` and the owner, and throttled), the measurement type found
    (created on first use in legacy ``open`` mode), then `device_register` with the rest of the
    request (`device`: mac_address, city, latitude, longitude, sensor_model, height)."""
    try:
        owner = registration_owner_authorize(owner_slug=owner_slug, secret=secret, legacy_mode=legacy_mode)
    except (AuthenticationFailed, PermissionDenied):
        registration_throttle.registration_refused(client=client, owner_slug=owner_slug)
        raise
    return device_register(
        owner=owner,
        measurement_type=services.measurement_type_resolve(slug=measurement_type, create=legacy_mode == "open"),
        **device,
    )


def registration_owner_authorize(*, owner_slug: str, secret: str | None, legacy_mode: str | None = None) -> Owner:
    """The owner a registration goes to, once its provisioning secret (or policy) allows it.

    ``legacy_mode`` is the DEVICES_LEGACY_API mode for seed-compatible registrations: in
    ``open`` mode an unknown owner is created on first use.
    """
    owner = Owner.objects.filter(slug=owner_slug).first()
    if owner is None and legacy_mode == "open" and slugify(owner_slug) == owner_slug:
        try:
            owner, _ = services.owner_create(name=owner_slug, slug=owner_slug, allow_secretless_registration=True)
        except DomainError:
            # Another device of this new owner registered at the same moment and created it.
            owner = Owner.objects.get(slug=owner_slug)
    if owner is None:
        if not secret:
            raise AuthenticationFailed(SECRET_HEADER_HINT)
        raise PermissionDenied("Unknown owner or wrong provisioning secret.")
    if secret:
        if not services.owner_secret_matches(owner, secret):
            raise PermissionDenied("Unknown owner or wrong provisioning secret.")
        return owner
    if legacy_mode == "open" or owner.allow_secretless_registration:
        return owner
    raise AuthenticationFailed(SECRET_HEADER_HINT)
