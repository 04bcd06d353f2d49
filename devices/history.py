"""Topic moves in a device's history (`ConfigChange` of kind "topic").

A device's base topic is ``owner/city/measurement_type/device_id``; when any of those levels
changes, every subscriber of the old topic stops hearing the device, so the move is recorded
beside the config changes: who, through which path, old → new topic. Only the services call
these functions (a device update, a re-registration, an owner's or measurement type's new slug).
"""

from django.db.models import QuerySet

from devices import topics
from devices.models import ConfigChange, Device

BULK_BATCH_SIZE = 1000


def topic_snapshot(*, owner: str, city: str, measurement_type: str, device_id: str) -> dict:
    """What the history keeps of a device's topic: the topic and the levels it is made of."""
    return {
        "topic": topics.base_topic(owner=owner, city=city, measurement_type=measurement_type, device_id=device_id),
        "owner": owner,
        "city": city,
        "measurement_type": measurement_type,
    }


def _who(changed_by):
    # An anonymous caller (the legacy API in `open` mode) is recorded as nobody.
    return changed_by if getattr(changed_by, "pk", None) else None


def topic_move_record(*, device_id: str, old: dict, new: dict, changed_by=None, source: str) -> ConfigChange | None:
    """Record a move of one device's topic; nothing when the topic stays the same (a change of
    the city's spelling that reduces to the same level, say)."""
    if old["topic"] == new["topic"]:
        return None
    return ConfigChange.objects.create(
        device_id=device_id,
        kind=ConfigChange.Kind.TOPIC,
        changed_by=_who(changed_by),
        source=source,
        old=old,
        new=new,
    )


def topic_moves_record(
    *,
    devices: QuerySet[Device],
    old_owner: str | None = None,
    old_measurement_type: str | None = None,
    changed_by=None,
    source: str,
) -> list[str]:
    """After an owner's or a measurement type's slug changed: record for each of these devices
    the move from its topic under the old slug to its topic now, in batches. Returns the ids of
    all the devices (their cached topics are stale, moved or not)."""
    device_ids: list[str] = []
    batch: list[ConfigChange] = []
    changed_by = _who(changed_by)
    rows = devices.order_by().values_list("device_id", "owner__slug", "city", "measurement_type__slug")
    for device_id, owner, city, measurement_type in rows.iterator(chunk_size=BULK_BATCH_SIZE):
        device_ids.append(device_id)
        new = topic_snapshot(owner=owner, city=city, measurement_type=measurement_type, device_id=device_id)
        old = topic_snapshot(
            owner=old_owner or owner,
            city=city,
            measurement_type=old_measurement_type or measurement_type,
            device_id=device_id,
        )
        if old["topic"] != new["topic"]:
            batch.append(
                ConfigChange(
                    device_id=device_id,
                    kind=ConfigChange.Kind.TOPIC,
                    changed_by=changed_by,
                    source=source,
                    old=old,
                    new=new,
                )
            )
        if len(batch) >= BULK_BATCH_SIZE:
            ConfigChange.objects.bulk_create(batch)
            batch = []
    if batch:
        ConfigChange.objects.bulk_create(batch)
    return device_ids
