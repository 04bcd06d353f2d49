"""Hands device events on once their transaction commits, to the Celery queue. The worker's
`dispatch_device_event` then passes each on, once, to the integrations that act on it and to
the live view of staff connected to ``ws/events/`` (`live_push`).

The live push is the worker's, not the request's: from a synchronous request it costs an event
loop and a Redis connection each time (`async_to_sync`), about a quarter of a registration's
CPU. The price: without a worker the live view is silent, and an event whose hand-off was lost
shows when beat hands it on again, a minute later."""

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


def live_push(event) -> None:
    """Show a dispatched event to the staff watching ``ws/events/`` (best effort: the live view
    is a view, the outbox row is the record)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(LIVE_GROUP, live_message(event))
    except Exception:
        logger.exception("live event push failed", extra={"event_id": str(event.id)})


@receiver(signals.device_registered, dispatch_uid="devices.events.registered")
@receiver(signals.device_config_changed, dispatch_uid="devices.events.config_changed")
@receiver(signals.device_status_changed, dispatch_uid="devices.events.status_changed")
def publish_after_commit(sender, event, **kwargs):
    transaction.on_commit(lambda: _publish(event))
