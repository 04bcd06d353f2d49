"""The live view of device events: staff connected to ``ws/events/`` (`devices.consumers`) get
each event once the worker has dispatched it (`devices.tasks.dispatch_device_event`).

The live push is the worker's, not the request's: from a synchronous request it costs an event
loop and a Redis connection each time (`async_to_sync`), about a quarter of a registration's
CPU. The price: without a worker the live view is silent, and an event whose hand-off was lost
shows when beat hands it on again, a minute later."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

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
