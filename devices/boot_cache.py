"""What a device fetches at boot (topics, config), served from the cache: its boot record.

These are the hottest reads in the hub: after a power cut the whole fleet asks at once. A
device's boot record is built with one query, cached, and invalidated explicitly by the
services whenever anything it is derived from changes.

The cache may be unreachable (Redis restarting): devices are then served from the database, and
a change whose invalidation could not run is noted in the database (`StaleDeliveryRecord`) and
dropped from the cache as soon as it answers again (`boot_invalidations_retry`, beat), so
the change never answers an error and no stale record outlives the outage.

This module reads the registry and keeps its own cache (keys, the "seen" marks, the notes of
invalidations to retry); it writes nothing of the registry and calls no service: recording that
a device was seen is `devices.services.device_seen`, which asks `seen_mark` here first.
(The cache keys and log lines keep their older name, "delivery", which dashboards may match.)
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from config.cache import CACHE_ERRORS
from devices import topics
from devices.models import Device, StaleDeliveryRecord

logger = logging.getLogger(__name__)

_MISSING = "missing"
_NEGATIVE_CACHE_SECONDS = 30


def _record_key(device_id: str) -> str:
    return f"devices:delivery:{device_id}"


def _seen_key(device_id: str) -> str:
    return f"devices:seen:{device_id}"


def config_etag(device_id: str, version: int) -> str:
    return f'"{device_id}-v{version}"'


def _record_build(device_id: str) -> dict | None:
    device = (
        Device.objects.select_related("owner", "measurement_type", "config")
        .only(
            "device_id",
            "city",
            "is_active",
            "key_digest",
            "owner__slug",
            "measurement_type__slug",
            "config__send_interval",
            "config__qos",
            "config__version",
            "config__updated_at",
        )
        .filter(device_id=device_id)
        .first()
    )
    if device is None:
        return None
    config = device.config
    base = topics.base_topic(
        owner=device.owner.slug,
        city=device.city,
        measurement_type=device.measurement_type.slug,
        device_id=device.device_id,
    )
    return {
        "device_id": device.device_id,
        "key_digest": device.key_digest,
        "is_active": device.is_active,
        "topics": topics.device_topics(base),
        "config": {
            "send_interval": config.send_interval,
            "qos": config.qos,
            "version": config.version,
            "updated_at": config.updated_at.isoformat().replace("+00:00", "Z"),
        },
        "etag": config_etag(device.device_id, config.version),
    }


def boot_record_fetch(device_id: str) -> tuple[dict | None, bool]:
    """The cached boot record of a device (None if there is no such device), and whether the
    device was marked seen within the last resolution: both in one cache round trip on a hit."""
    if len(device_id) != 16:
        return None, False
    key, seen_key = _record_key(device_id), _seen_key(device_id)
    try:
        found = cache.get_many([key, seen_key])
    except CACHE_ERRORS as exc:
        # Served from the database while the cache is down; "seen" waits for it to come back.
        logger.warning("delivery cache unavailable: served from the database", extra={"error": type(exc).__name__})
        return _record_build(device_id), True
    record = found.get(key)
    if record is None:
        record = _record_build(device_id)
        _cache_set(key, _MISSING if record is None else record)
        if record is None:
            return None, False
    if record == _MISSING:
        return None, False
    return record, seen_key in found


def _cache_set(key: str, record) -> None:
    timeout = _NEGATIVE_CACHE_SECONDS if record == _MISSING else settings.DEVICES_DELIVERY_CACHE_SECONDS
    try:
        cache.set(key, record, timeout)
    except CACHE_ERRORS as exc:  # the record was read from the database: serve it anyway
        logger.warning("delivery cache unavailable: record not cached", extra={"error": type(exc).__name__})


def boot_record(device_id: str) -> dict | None:
    """The cached boot record of a device, or None if there is no such device."""
    return boot_record_fetch(device_id)[0]


def boot_records_invalidate(device_ids) -> None:
    """Drop the cached records of these devices. Never raises: it runs once the change has
    committed, and a change that is done must not answer an error. A cache that cannot be
    reached leaves a note per device, for `boot_invalidations_retry`."""
    device_ids = list(device_ids)
    if not device_ids:
        return
    try:
        cache.delete_many([_record_key(device_id) for device_id in device_ids])
    except CACHE_ERRORS as exc:
        logger.warning(
            "delivery cache unavailable: invalidation noted for later",
            extra={"devices": len(device_ids), "error": type(exc).__name__},
        )
        now = timezone.now()
        try:
            # A device noted already gets its note's time moved on: the retry that drops it must
            # also be later than this change.
            StaleDeliveryRecord.objects.bulk_create(
                [StaleDeliveryRecord(device_id=device_id, noted_at=now) for device_id in device_ids],
                update_conflicts=True,
                unique_fields=["device_id"],
                update_fields=["noted_at"],
            )
        except DatabaseError:
            # Both down: the records expire after DEVICES_DELIVERY_CACHE_SECONDS at the latest.
            logger.exception("delivery invalidation lost", extra={"device_ids": device_ids[:50]})


def boot_invalidations_retry(*, limit: int = 5000) -> int:
    """Drop the records that changes could not drop while the cache was down; returns how many
    (0 while it is still down: the notes wait for the next try)."""
    started = timezone.now()
    noted = list(StaleDeliveryRecord.objects.order_by("noted_at").values_list("device_id", flat=True)[:limit])
    if not noted:
        return 0
    cache.delete_many([_record_key(device_id) for device_id in noted])
    # Not the notes of changes made since this pass started: their keys may be cached again.
    StaleDeliveryRecord.objects.filter(device_id__in=noted, noted_at__lt=started).delete()
    logger.info("delivery invalidations retried", extra={"devices": len(noted)})
    return len(noted)


def seen_mark(device_id: str) -> bool:
    """Mark a device seen for DEVICES_LAST_SEEN_RESOLUTION_SECONDS; whether it is the first mark in
    that time (so the caller writes "seen" to the database at most once per resolution). False
    while the cache is down: every request would write it otherwise."""
    try:
        return bool(cache.add(_seen_key(device_id), 1, settings.DEVICES_LAST_SEEN_RESOLUTION_SECONDS))
    except CACHE_ERRORS:
        return False
