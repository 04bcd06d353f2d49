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
            "device_id", "city", "is_active", "key_digest", "owner__slug", "measurement_type__slug",
            "config__send_interval", "config__qos", "config__version", "config__updated_at",
        )
        .filter(device_id=device_id)
        .first()
    )
    if device is None:
        return None
    config = device.config
    base = topics.base_topic(
        owner=device.owner.slug, city=device.city,
        measurement_type=device.measurement_type.slug, device_id=device.device_id,
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


def delivery_record(device_id: str) -> dict | None:
    """The cached delivery record of a device, or None if there is no such device."""
    if len(device_id) != 16:
        return None
    key = _record_key(device_id)
    record = cache.get(key)
    if record is None:
        record = _record_build(device_id)
        if record is None:
            cache.set(key, _MISSING, _NEGATIVE_CACHE_SECONDS)
            return None
        cache.set(key, record, settings.DEVICES_DELIVERY_CACHE_SECONDS)
    return None if record == _MISSING else record


def delivery_invalidate(device_ids) -> None:
    cache.delete_many([_record_key(device_id) for device_id in device_ids])


def device_seen(device_id: str) -> None:
    """Record that a device called in, writing to the database at most once per resolution."""
    resolution = settings.DEVICES_LAST_SEEN_RESOLUTION_SECONDS
    if cache.add(_seen_key(device_id), 1, resolution):
        Device.objects.filter(device_id=device_id).update(last_seen=timezone.now())
