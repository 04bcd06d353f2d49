"""Hands device events on once their transaction commits: to the Celery queue (for the
integrations that act on them) and to the live view of staff connected to ``ws/events/``."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import receiver

from devices import signals

logger = logging.getLogger(__name__)

LIVE_GROUP = "device-events"


def live_message(event) -> dict:
    return {
        "type": "device.event",
        "event": event.kind,
        "id": str(event.id),
        "data": event.payload,
        "at": event.created_at.isoformat(),
    }


def _publish(event) -> None:
    from devices.tasks import dispatch_device_event

    try:
        dispatch_device_event.delay(str(event.id))
    except Exception:
        # The outbox row stays undispatched; beat's redispatch task picks it up.
        logger.exception("device event enqueue failed", extra={"event_id": str(event.id)})
    layer = get_channel_layer()
    if layer is not None:
        try:
            async_to_sync(layer.group_send)(LIVE_GROUP, live_message(event))
        except Exception:
            logger.exception("live event push failed", extra={"event_id": str(event.id)})


@receiver(signals.device_registered, dispatch_uid="devices.events.registered")
@receiver(signals.device_config_changed, dispatch_uid="devices.events.config_changed")
@receiver(signals.device_status_changed, dispatch_uid="devices.events.status_changed")
def publish_after_commit(sender, event, **kwargs):
    transaction.on_commit(lambda: _publish(event))
