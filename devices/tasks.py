import datetime as dt
import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from devices import boot_cache, live, services, signals
from devices.models import DeviceEvent

logger = logging.getLogger(__name__)

REDISPATCH_AFTER = dt.timedelta(minutes=1)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_device_event(event_id: str) -> bool:
    """Hand one outbox event on, exactly once: the row lock keeps a retried or duplicated
    task from handing it on twice. Once committed, it is shown live on ``ws/events/``."""
    with transaction.atomic():
        event = (
            DeviceEvent.objects.select_for_update(skip_locked=True)
            .filter(id=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        signals.device_event_dispatched.send(sender=DeviceEvent, event=event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    logger.info("device event dispatched", extra={"event_id": event_id, "event": event.kind})
    live.live_push(event)
    return True


@shared_task(ignore_result=True)
def redispatch_pending_events(limit: int = 1000) -> int:
    """Re-enqueue events whose hand-off was lost (broker down at commit time, worker died)."""
    cutoff = timezone.now() - REDISPATCH_AFTER
    ids = list(
        DeviceEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        dispatch_device_event.delay(str(event_id))
    return len(ids)


@shared_task(ignore_result=True)
def detect_offline_devices() -> int:
    """Beat: devices silent for too long go offline (device.offline events)."""
    return services.devices_mark_offline()


@shared_task(ignore_result=True)
def retry_delivery_invalidations() -> int:
    """Beat: drop the cached records that changes could not drop while the cache was down."""
    return boot_cache.boot_invalidations_retry()
