"""Every write to the device registry goes through these functions: the API, the legacy API,
the admin, tasks and commands all call them, so rules, history, events and cache invalidation
live in one place."""

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from config.credentials import credential_digest, credential_generate, credential_matches
from config.errors import AuthenticationFailed, Conflict, DomainError, NotFound, PermissionDenied
from devices import delivery, history, identity, signals
from devices.models import (
    LOCATION_PAIR_MESSAGE,
    SEND_INTERVAL_MAX,
    SEND_INTERVAL_MIN,
    ConfigChange,
    Device,
    DeviceConfig,
    DeviceEvent,
    MeasurementType,
    Owner,
)

SECRET_HEADER_HINT = "Send the owner's provisioning secret in the X-Provisioning-Secret header."


# ---------------------------------------------------------------------------------- owners


def owner_create(
    *,
    name: str,
    slug: str = "",
    allow_secretless_registration: bool = False,
    default_send_interval: int | None = None,
    default_qos: int | None = None,
) -> tuple[Owner, str]:
    """Create an owner; returns it with its provisioning secret, which is never shown again."""
    slug = slug or slugify(name)
    if not slug:
        raise DomainError("Give the owner a slug of letters, digits or dashes.", field="slug")
    secret = credential_generate()
    try:
        # A savepoint, so that a taken slug leaves a caller's transaction usable.
        with transaction.atomic():
            owner = Owner.objects.create(
                name=name,
                slug=slug,
                provisioning_secret_digest=credential_digest(secret),
                allow_secretless_registration=allow_secretless_registration,
                default_send_interval=default_send_interval,
                default_qos=default_qos,
            )
    except IntegrityError:
        raise DomainError(f"An owner with slug '{slug}' already exists.", field="slug") from None
    return owner, secret


@transaction.atomic
def owner_rotate_secret(*, owner: Owner) -> str:
    """Issue a new provisioning secret; the previous one keeps working for the grace period."""
    owner = Owner.objects.select_for_update().get(pk=owner.pk)
    secret = credential_generate()
    now = timezone.now()
    owner.previous_secret_digest = owner.provisioning_secret_digest
    owner.previous_secret_valid_until = now + dt.timedelta(seconds=settings.DEVICES_SECRET_ROTATION_GRACE_SECONDS)
    owner.provisioning_secret_digest = credential_digest(secret)
    owner.secret_rotated_at = now
    owner.save(
        update_fields=[
            "previous_secret_digest",
            "previous_secret_valid_until",
            "provisioning_secret_digest",
            "secret_rotated_at",
        ]
    )
    return secret


_OWNER_EDITABLE = {"name", "slug", "allow_secretless_registration", "default_send_interval", "default_qos"}


def _slugged_save(obj, *, editable: set[str], changes: dict, what: str) -> str:
    """Save the changes of an owner or a measurement type (inside the caller's transaction);
    returns its slug as it was, read from the locked row — the admin hands in an instance its
    form has changed already."""
    unknown = set(changes) - editable
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    slug_before = type(obj).objects.select_for_update().filter(pk=obj.pk).values_list("slug", flat=True).get()
    for field, value in changes.items():
        setattr(obj, field, value)
    try:
        with transaction.atomic():
            obj.save(update_fields=list(changes))
    except IntegrityError:
        raise DomainError(f"{what} with slug '{obj.slug}' already exists.", field="slug") from None
    return slug_before


@transaction.atomic
def owner_update(*, owner: Owner, changed_by=None, source: str = ConfigChange.Source.API, **changes) -> Owner:
    """Change an owner. A new slug moves the topics of all its devices: each move goes into
    that device's history, and their cached topics are dropped."""
    slug_before = _slugged_save(owner, editable=_OWNER_EDITABLE, changes=changes, what="An owner")
    if owner.slug != slug_before:
        device_ids = history.topic_moves_record(
            devices=Device.objects.filter(owner=owner), old_owner=slug_before, changed_by=changed_by, source=source
        )
        transaction.on_commit(lambda: delivery.delivery_invalidate(device_ids))
    return owner


def owner_secret_matches(owner: Owner, secret: str | None) -> bool:
    if credential_matches(secret, owner.provisioning_secret_digest):
        return True
    grace_open = owner.previous_secret_valid_until and owner.previous_secret_valid_until > timezone.now()
    return bool(grace_open) and credential_matches(secret, owner.previous_secret_digest)


def registration_owner_authorize(*, owner_slug: str, secret: str | None, legacy_mode: str | None = None) -> Owner:
    """The owner a registration goes to, once its provisioning secret (or policy) allows it.

    ``legacy_mode`` is the DEVICES_LEGACY_API mode for seed-compatible registrations: in
    ``open`` mode an unknown owner is created on first use.
    """
    owner = Owner.objects.filter(slug=owner_slug).first()
    if owner is None and legacy_mode == "open" and slugify(owner_slug) == owner_slug:
        try:
            owner, _ = owner_create(name=owner_slug, slug=owner_slug, allow_secretless_registration=True)
        except DomainError:
            # Another device of this new owner registered at the same moment and created it.
            owner = Owner.objects.get(slug=owner_slug)
    if owner is None:
        if not secret:
            raise AuthenticationFailed(SECRET_HEADER_HINT)
        raise PermissionDenied("Unknown owner or wrong provisioning secret.")
    if secret:
        if not owner_secret_matches(owner, secret):
            raise PermissionDenied("Unknown owner or wrong provisioning secret.")
        return owner
    if legacy_mode == "open" or owner.allow_secretless_registration:
        return owner
    raise AuthenticationFailed(SECRET_HEADER_HINT)


def measurement_type_resolve(*, slug: str, create: bool = False) -> MeasurementType:
    mtype = MeasurementType.objects.filter(slug=slug).first()
    if mtype is None and create and slugify(slug) == slug:
        mtype, _ = MeasurementType.objects.get_or_create(slug=slug, defaults={"name": slug.capitalize()})
    if mtype is None:
        known = ", ".join(MeasurementType.objects.values_list("slug", flat=True))
        raise DomainError(f"Unknown measurement type '{slug[:64]}'. Known types: {known}.", field="measurement_type")
    return mtype


_MEASUREMENT_TYPE_EDITABLE = {"slug", "name", "unit", "default_send_interval", "default_qos"}


@transaction.atomic
def measurement_type_update(
    *, measurement_type: MeasurementType, changed_by=None, source: str = ConfigChange.Source.ADMIN, **changes
) -> MeasurementType:
    """Change a measurement type; a new slug moves the topics of all its devices, as
    `owner_update` does for an owner's."""
    mtype = measurement_type
    slug_before = _slugged_save(mtype, editable=_MEASUREMENT_TYPE_EDITABLE, changes=changes, what="A measurement type")
    if mtype.slug != slug_before:
        device_ids = history.topic_moves_record(
            devices=Device.objects.filter(measurement_type=mtype),
            old_measurement_type=slug_before,
            changed_by=changed_by,
            source=source,
        )
        transaction.on_commit(lambda: delivery.delivery_invalidate(device_ids))
    return mtype


# --------------------------------------------------------------------------------- devices


@dataclasses.dataclass(frozen=True)
class Registration:
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


def _event_record(*, kind: str, device: Device, **extra) -> DeviceEvent:
    payload = {
        "device_id": device.device_id,
        "owner": device.owner.slug,
        "city": device.city,
        "measurement_type": device.measurement_type.slug,
        "sensor_model": device.sensor_model,
        "latitude": device.latitude,
        "longitude": device.longitude,
        **extra,
    }
    return DeviceEvent.objects.create(kind=kind, device=device, payload=payload)


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
    _location_check(latitude, longitude)
    mac = identity.mac_canonical(mac_address)
    device_key = credential_generate()
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
        defaults={
            "device_id": identity.device_id_for_mac(mac),
            "key_digest": credential_digest(device_key),
            **metadata,
        },
    )
    if is_new:
        defaults = _config_defaults(owner, measurement_type)
        DeviceConfig.objects.create(device=device, **defaults)
        ConfigChange.objects.create(
            device=device, version=1, source=ConfigChange.Source.REGISTRATION, old={}, new=defaults
        )
    else:
        if device.owner_id != owner.pk:
            # A secret of one owner must not take over another owner's device.
            raise Conflict("This MAC address is registered to another owner; an admin can move the device.")
        if not device.is_active:
            # Firmware registers at every boot: reactivating here would undo the admin's decision.
            raise PermissionDenied("This device is deactivated; an admin can reactivate it.")
        old_topic = _registration_old_topic(device, owner, measurement_type)
        if latitude is None:
            del metadata["latitude"], metadata["longitude"]
        if height is None:
            del metadata["height"]
        for field, value in metadata.items():
            setattr(device, field, value)
        device.key_digest = credential_digest(device_key)
        came_back_online = not device.is_online
        device.is_online = True
        device.save()
        history.topic_move_record(
            device_id=device.device_id, old=old_topic, new=_topic_of(device), source=ConfigChange.Source.REGISTRATION
        )
    # The answer is built once this commits, when the database may be gone: read its config now.
    device.config  # noqa: B018
    event = _event_record(kind=DeviceEvent.Kind.REGISTERED, device=device, is_new=is_new)
    transaction.on_commit(lambda: delivery.delivery_invalidate([device.device_id]))
    signals.device_registered.send(sender=Device, device=device, event=event, is_new=is_new)
    if not is_new and came_back_online:
        _status_event(device, is_online=True)
    return Registration(device=device, device_key=device_key, is_new=is_new)


def _location_check(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise DomainError(LOCATION_PAIR_MESSAGE, field="latitude" if latitude is None else "longitude")


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


_DEVICE_EDITABLE = {"owner", "measurement_type", "city", "latitude", "longitude", "sensor_model", "height", "is_active"}


def device_update(*, device: Device, changed_by=None, source: str = ConfigChange.Source.API, **changes) -> Device:
    """Change a device's metadata. A change of owner, city or measurement type that moves its
    topic is recorded in its history, with who and through which path (`source`)."""
    unknown = set(changes) - _DEVICE_EDITABLE
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        # The row as stored (the admin hands in an instance its form already changed), locked so
        # that two moves of one device are recorded in the order they happened.
        before = (
            Device.objects.select_for_update(of=("self",))
            .filter(pk=device.pk)
            .values("owner__slug", "city", "measurement_type__slug", "latitude", "longitude")
            .first()
        )
        if before is None:
            raise NotFound("Device not found.")
        _location_check(changes.get("latitude", before["latitude"]), changes.get("longitude", before["longitude"]))
        for field, value in changes.items():
            setattr(device, field, value)
        # Only the changed fields: a concurrent last_seen write must not be overwritten.
        device.save(update_fields=[*changes, "updated_at"])
        old = history.topic_snapshot(
            owner=before["owner__slug"],
            city=before["city"],
            measurement_type=before["measurement_type__slug"],
            device_id=device.device_id,
        )
        new = history.topic_snapshot(
            owner=changes["owner"].slug if "owner" in changes else before["owner__slug"],
            city=changes.get("city", before["city"]),
            measurement_type=(
                changes["measurement_type"].slug if "measurement_type" in changes else before["measurement_type__slug"]
            ),
            device_id=device.device_id,
        )
        history.topic_move_record(device_id=device.device_id, old=old, new=new, changed_by=changed_by, source=source)
        transaction.on_commit(lambda: delivery.delivery_invalidate([device.device_id]))
    return device


def device_delete(*, device: Device) -> None:
    device_id = device.device_id
    with transaction.atomic():
        device.delete()
        transaction.on_commit(lambda: delivery.delivery_invalidate([device_id]))


def devices_deactivate(*, device_ids: list[str]) -> int:
    """Refuse these devices' calls and registrations from now on; the number that were active."""
    return _devices_set_active(device_ids=device_ids, is_active=False)


def devices_activate(*, device_ids: list[str]) -> int:
    """Let deactivated devices call in and register again; the number that were inactive."""
    return _devices_set_active(device_ids=device_ids, is_active=True)


def _devices_set_active(*, device_ids: list[str], is_active: bool) -> int:
    with transaction.atomic():
        count = Device.objects.filter(device_id__in=device_ids, is_active=not is_active).update(is_active=is_active)
        # The cached record carries the flag the device endpoints check.
        transaction.on_commit(lambda: delivery.delivery_invalidate(device_ids))
    return count


# ---------------------------------------------------------------------------------- config


def _config_validate(*, send_interval: int | None, qos: int | None) -> None:
    if send_interval is not None and not (SEND_INTERVAL_MIN <= send_interval <= SEND_INTERVAL_MAX):
        raise DomainError(
            f"Send interval must be between {SEND_INTERVAL_MIN} and {SEND_INTERVAL_MAX} seconds.",
            field="send_interval",
        )
    if qos is not None and qos not in (0, 1, 2):
        raise DomainError("MQTT QoS must be 0, 1 or 2.", field="qos")


def _config_snapshot(config: DeviceConfig) -> dict:
    return {"send_interval": config.send_interval, "qos": config.qos}


@transaction.atomic
def config_update(
    *,
    device: Device,
    send_interval: int | None = None,
    qos: int | None = None,
    changed_by=None,
    source: str = ConfigChange.Source.API,
) -> DeviceConfig:
    """Change a device's config; bumps its version and records who changed what.

    A request that changes nothing leaves the version alone, so devices don't reboot for it.
    """
    _config_validate(send_interval=send_interval, qos=qos)
    config = DeviceConfig.objects.select_for_update().get(device=device)
    old = _config_snapshot(config)
    if send_interval is not None:
        config.send_interval = send_interval
    if qos is not None:
        config.qos = qos
    new = _config_snapshot(config)
    if new == old:
        return config
    config.version += 1
    config.updated_by = changed_by if getattr(changed_by, "pk", None) else None
    config.save()
    change = ConfigChange.objects.create(
        device=device, version=config.version, changed_by=config.updated_by, source=source, old=old, new=new
    )
    event = _event_record(
        kind=DeviceEvent.Kind.CONFIG_CHANGED,
        device=device,
        version=config.version,
        old=old,
        new=new,
        source=source,
    )
    transaction.on_commit(lambda: delivery.delivery_invalidate([device.device_id]))
    signals.device_config_changed.send(sender=Device, device=device, event=event, change=change)
    return config


def configs_bulk_update(
    *,
    device_ids: list[str],
    send_interval: int | None = None,
    qos: int | None = None,
    changed_by=None,
    source: str = ConfigChange.Source.BULK,
) -> int:
    """Apply one change to many devices, each through `config_update` (history, events, cache).

    Returns how many configs actually changed.
    """
    _config_validate(send_interval=send_interval, qos=qos)
    changed = 0
    with transaction.atomic():
        devices = Device.objects.select_related("owner", "measurement_type", "config").filter(device_id__in=device_ids)
        for device in devices.iterator(chunk_size=500):
            version_before = device.config.version
            config = config_update(
                device=device, send_interval=send_interval, qos=qos, changed_by=changed_by, source=source
            )
            changed += int(config.version != version_before)
    return changed


def config_mark_applied(*, device_id: str, version: int) -> None:
    """The device reports the config version it runs after reboot (the admin then shows it
    as up to date, or pending while an older version is applied)."""
    current = DeviceConfig.objects.filter(device_id=device_id).values_list("version", flat=True).first()
    if current is None:
        raise NotFound("Device not found.")
    if not 1 <= version <= current:
        raise DomainError(
            f"Version {version} was never issued; the current config version is {current}.", field="version"
        )
    DeviceConfig.objects.filter(device_id=device_id).update(applied_version=version, applied_at=timezone.now())


def devices_delete(*, device_ids: list[str]) -> int:
    """Delete many devices at once (admin bulk delete); their cached records go with them, so a
    deleted device's key stops working at once."""
    with transaction.atomic():
        _, deleted = Device.objects.filter(device_id__in=device_ids).delete()
        transaction.on_commit(lambda: delivery.delivery_invalidate(device_ids))
    return deleted.get(Device._meta.label, 0)


# ---------------------------------------------------------------------------------- status


def _status_event(device: Device, *, is_online: bool) -> None:
    kind = DeviceEvent.Kind.ONLINE if is_online else DeviceEvent.Kind.OFFLINE
    extra = {"last_seen": device.last_seen.isoformat() if device.last_seen else None}
    event = _event_record(kind=kind, device=device, **extra)
    signals.device_status_changed.send(sender=Device, device=device, event=event, is_online=is_online)


def device_mark_online(*, device_id: str) -> bool:
    """A device that was offline called in: back online, with a device.online event. Returns
    whether it changed (a single UPDATE when it was online already)."""
    with transaction.atomic():
        came_back = Device.objects.filter(device_id=device_id, is_online=False).update(
            is_online=True, last_seen=timezone.now()
        )
        if not came_back:
            return False
        device = Device.objects.select_related("owner", "measurement_type").get(device_id=device_id)
        _status_event(device, is_online=True)
    return True


def devices_mark_offline(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Devices silent for longer than their allowance go offline, each with a device.offline
    event. The allowance is max(DEVICES_OFFLINE_AFTER_SECONDS, DEVICES_OFFLINE_AFTER_INTERVALS ×
    send interval). Returns how many went offline; 0 when detection is off."""
    minimum = settings.DEVICES_OFFLINE_AFTER_SECONDS
    if minimum <= 0:
        return 0
    now = now or timezone.now()
    candidates = (
        Device.objects.filter(is_online=True, is_active=True, last_seen__lt=now - dt.timedelta(seconds=minimum))
        .select_related("owner", "measurement_type", "config")
        .order_by("last_seen")[:limit]
    )
    went_offline = 0
    for device in candidates:
        allowance = max(minimum, settings.DEVICES_OFFLINE_AFTER_INTERVALS * device.config.send_interval)
        if device.last_seen >= now - dt.timedelta(seconds=allowance):
            continue
        with transaction.atomic():
            # Only if it is still online and still silent: it may have called in meanwhile.
            flipped = Device.objects.filter(
                device_id=device.device_id, is_online=True, last_seen=device.last_seen
            ).update(is_online=False)
            if flipped:
                device.is_online = False
                _status_event(device, is_online=False)
                went_offline += 1
    return went_offline
