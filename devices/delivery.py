"""What a device fetches at boot (topics, config), served from the cache.

These are the hottest reads in the hub: after a power cut the whole fleet asks at once. A
device's delivery record is built with one query, cached, and invalidated explicitly by the
services whenever anything it is derived from changes.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from devices import topics
from devices.models import Device

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


def delivery_fetch(device_id: str) -> tuple[dict | None, bool]:
    """The cached delivery record of a device (None if there is no such device), and whether the
    device was marked seen within the last resolution: both in one cache round trip on a hit."""
    if len(device_id) != 16:
        return None, False
    key, seen_key = _record_key(device_id), _seen_key(device_id)
    found = cache.get_many([key, seen_key])
    record = found.get(key)
    if record is None:
        record = _record_build(device_id)
        if record is None:
            cache.set(key, _MISSING, _NEGATIVE_CACHE_SECONDS)
            return None, False
        cache.set(key, record, settings.DEVICES_DELIVERY_CACHE_SECONDS)
    if record == _MISSING:
        return None, False
    return record, seen_key in found


def delivery_record(device_id: str) -> dict | None:
    """The cached delivery record of a device, or None if there is no such device."""
    return delivery_fetch(device_id)[0]


def delivery_invalidate(device_ids) -> None:
    cache.delete_many([_record_key(device_id) for device_id in device_ids])


def device_seen(device_id: str) -> None:
    """Record that a device called in, writing to the database at most once per resolution."""
    resolution = settings.DEVICES_LAST_SEEN_RESOLUTION_SECONDS
    if cache.add(_seen_key(device_id), 1, resolution):
        if not Device.objects.filter(device_id=device_id, is_online=True).update(last_seen=timezone.now()):
            from devices.services import device_mark_online  # services import this module

            device_mark_online(device_id=device_id)
