"""Every write to the device registry goes through these functions: the API, the legacy API,
the admin, tasks and commands all call them, so rules, history, events and cache invalidation
live in one place. Registration, with its owner authorization, is `devices.registration`."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from config.credentials import credential_digest, credential_generate, credential_matches
from config.errors import Conflict, DomainError, NotFound
from config.services import model_update
from devices import boot_cache, history, outbox, signals
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
    form has changed already, so every field given is saved, changed on the instance or not."""
    model_update(instance=obj, fields=editable, data=changes)
    slug_before = type(obj).objects.select_for_update().filter(pk=obj.pk).values_list("slug", flat=True).get()
    try:
        with transaction.atomic():
            obj.save(update_fields=list(changes))
    except IntegrityError:
        raise DomainError(f"{what} with slug '{obj.slug}' already exists.", field="slug") from None
    return slug_before


def _topics_moved(*, devices: QuerySet[Device], changed_by, source: str, **old_slug) -> None:
    """After an owner's or a measurement type's slug changed (`old_owner=` or
    `old_measurement_type=`): the move of each of its devices goes into that device's history,
    and their cached topics are dropped once this commits. The one place that does both."""
    device_ids = history.topic_moves_record(devices=devices, changed_by=changed_by, source=source, **old_slug)
    transaction.on_commit(lambda: boot_cache.boot_records_invalidate(device_ids))


@transaction.atomic
def owner_update(*, owner: Owner, changed_by=None, source: str = ConfigChange.Source.API, **changes) -> Owner:
    """Change an owner (the admin and the API both call this). A new slug moves the topics of
    all its devices: each move goes into that device's history, and their cached topics are
    dropped."""
    slug_before = _slugged_save(owner, editable=_OWNER_EDITABLE, changes=changes, what="An owner")
    if owner.slug != slug_before:
        _topics_moved(
            devices=Device.objects.filter(owner=owner), old_owner=slug_before, changed_by=changed_by, source=source
        )
    return owner


def owner_secret_matches(owner: Owner, secret: str | None) -> bool:
    if credential_matches(secret, owner.provisioning_secret_digest):
        return True
    grace_open = owner.previous_secret_valid_until and owner.previous_secret_valid_until > timezone.now()
    return bool(grace_open) and credential_matches(secret, owner.previous_secret_digest)


def measurement_type_resolve(*, slug: str, create: bool = False) -> MeasurementType:
    mtype = MeasurementType.objects.filter(slug=slug).first()
    if mtype is None and create and slugify(slug) == slug:
        mtype, _ = MeasurementType.objects.get_or_create(slug=slug, defaults={"name": slug.capitalize()})
    if mtype is None:
        known = ", ".join(MeasurementType.objects.values_list("slug", flat=True))
        raise DomainError(f"Unknown measurement type '{slug[:64]}'. Known types: {known}.", field="measurement_type")
    return mtype


_MEASUREMENT_TYPE_EDITABLE = {"slug", "name", "unit", "default_send_interval", "default_qos"}


def measurement_type_create(
    *,
    slug: str,
    name: str,
    unit: str = "",
    default_send_interval: int | None = None,
    default_qos: int | None = None,
) -> MeasurementType:
    """A new measurement type (the admin's "add"); no device has it yet, so no topic moves."""
    try:
        # A savepoint, so that a taken slug leaves a caller's transaction usable.
        with transaction.atomic():
            return MeasurementType.objects.create(
                slug=slug, name=name, unit=unit, default_send_interval=default_send_interval, default_qos=default_qos
            )
    except IntegrityError:
        raise DomainError(f"A measurement type with slug '{slug}' already exists.", field="slug") from None


@transaction.atomic
def measurement_type_update(
    *, measurement_type: MeasurementType, changed_by=None, source: str = ConfigChange.Source.ADMIN, **changes
) -> MeasurementType:
    """Change a measurement type; a new slug moves the topics of all its devices, as
    `owner_update` does for an owner's."""
    mtype = measurement_type
    slug_before = _slugged_save(mtype, editable=_MEASUREMENT_TYPE_EDITABLE, changes=changes, what="A measurement type")
    if mtype.slug != slug_before:
        _topics_moved(
            devices=Device.objects.filter(measurement_type=mtype),
            old_measurement_type=slug_before,
            changed_by=changed_by,
            source=source,
        )
    return mtype


# --------------------------------------------------------------------------------- devices


def location_pair_check(latitude: float | None, longitude: float | None) -> None:
    """Both coordinates or neither (an unknown location); shared with `devices.registration`."""
    if (latitude is None) != (longitude is None):
        raise DomainError(LOCATION_PAIR_MESSAGE, field="latitude" if latitude is None else "longitude")


_DEVICE_EDITABLE = {"owner", "measurement_type", "city", "latitude", "longitude", "sensor_model", "height", "is_active"}


def device_update(*, device: Device, changed_by=None, source: str = ConfigChange.Source.API, **changes) -> Device:
    """Change a device's metadata. A change of owner, city or measurement type that moves its
    topic is recorded in its history, with who and through which path (`source`)."""
    # Refuses fields outside the editable ones. Every field given is saved below, changed on this
    # instance or not: the admin hands in an instance its form has changed already.
    model_update(instance=device, fields=_DEVICE_EDITABLE, data=changes)
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
        location_pair_check(changes.get("latitude", before["latitude"]), changes.get("longitude", before["longitude"]))
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
        transaction.on_commit(lambda: boot_cache.boot_records_invalidate([device.device_id]))
    return device


def device_delete(*, device: Device) -> None:
    device_id = device.device_id
    with transaction.atomic():
        device.delete()
        transaction.on_commit(lambda: boot_cache.boot_records_invalidate([device_id]))


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
        transaction.on_commit(lambda: boot_cache.boot_records_invalidate(device_ids))
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
    actor: str = "",
    expected_version: int | None = None,
) -> DeviceConfig:
    """Change a device's config; bumps its version and records who changed what.

    A request that changes nothing leaves the version alone, so devices don't reboot for it.
    `actor` names a changer who is no user of the hub (a chat bot's user). With
    `expected_version`, a config that changed since the caller looked at it is not changed
    (Conflict): a confirmation given for old → new must not apply to something else.
    """
    _config_validate(send_interval=send_interval, qos=qos)
    config = DeviceConfig.objects.select_for_update().get(device=device)
    if expected_version is not None and config.version != expected_version:
        raise Conflict(
            f"The config changed since (it is now version {config.version}, not {expected_version}).",
            field="version",
        )
    old = _config_snapshot(config)
    given = {"send_interval": send_interval, "qos": qos}
    # A caller that is no user (a device, an anonymous legacy call) is recorded as nobody.
    who = changed_by if getattr(changed_by, "pk", None) else None
    _, has_changed = model_update(
        instance=config,
        fields=("send_interval", "qos"),
        data={field: value for field, value in given.items() if value is not None},
        updated_by=who,
    )
    if not has_changed:
        return config
    new = _config_snapshot(config)
    config.version += 1
    config.save()
    change = ConfigChange.objects.create(
        device=device,
        version=config.version,
        changed_by=config.updated_by,
        source=source,
        actor=actor[:200],
        old=old,
        new=new,
    )
    event = outbox.event_record(
        kind=DeviceEvent.Kind.CONFIG_CHANGED,
        device=device,
        version=config.version,
        old=old,
        new=new,
        source=source,
    )
    transaction.on_commit(lambda: boot_cache.boot_records_invalidate([device.device_id]))
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
    as up to date, or pending while an older version is applied). A version it did not run
    before is a `device.config_applied` event; the same report after every reboot is not."""
    current = DeviceConfig.objects.filter(device_id=device_id).values_list("version", "applied_version").first()
    if current is None:
        raise NotFound("Device not found.")
    issued, applied = current
    if not 1 <= version <= issued:
        raise DomainError(
            f"Version {version} was never issued; the current config version is {issued}.", field="version"
        )
    if applied == version:
        DeviceConfig.objects.filter(device_id=device_id).update(applied_at=timezone.now())
        return
    with transaction.atomic():
        # The conditional UPDATE decides: of two reports at once, one changes the row and tells.
        changed = (
            DeviceConfig.objects.filter(device_id=device_id)
            .exclude(applied_version=version)
            .update(applied_version=version, applied_at=timezone.now())
        )
        if not changed:
            return
        device = Device.objects.select_related("owner", "measurement_type").get(device_id=device_id)
        event = outbox.event_record(
            kind=DeviceEvent.Kind.CONFIG_APPLIED, device=device, version=version, current_version=issued
        )
        signals.device_config_applied.send(sender=Device, device=device, event=event, version=version)


def devices_delete(*, device_ids: list[str]) -> int:
    """Delete many devices at once (admin bulk delete); their cached records go with them, so a
    deleted device's key stops working at once."""
    with transaction.atomic():
        _, deleted = Device.objects.filter(device_id__in=device_ids).delete()
        transaction.on_commit(lambda: boot_cache.boot_records_invalidate(device_ids))
    return deleted.get(Device._meta.label, 0)


# ---------------------------------------------------------------------------------- status


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
        outbox.status_event_send(device, is_online=True)
    return True


def device_seen(device_id: str) -> None:
    """Record that a device called in, writing to the database at most once per resolution
    (DEVICES_LAST_SEEN_RESOLUTION_SECONDS, counted in the cache); a device that was offline comes
    back online."""
    if not boot_cache.seen_mark(device_id):
        return
    if not Device.objects.filter(device_id=device_id, is_online=True).update(last_seen=timezone.now()):
        device_mark_online(device_id=device_id)


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
                outbox.status_event_send(device, is_online=False)
                went_offline += 1
    return went_offline
