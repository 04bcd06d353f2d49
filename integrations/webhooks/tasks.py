"""Celery tasks of inbound webhooks; they call the same services as the admin (persisting and
processing)."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from integrations.webhooks import persisting, processing, selectors

logger = logging.getLogger(__name__)

# A delivery not picked up by a worker this long after it was accepted lost its task.
REDISPATCH_AFTER = dt.timedelta(minutes=1)
REDISPATCH_CHUNK = 100


@shared_task(acks_late=True, ignore_result=True)
def drain_webhook_inbox() -> int:
    """Write the deliveries waiting in the inbox to the database (scheduled by the first delivery
    pushed after the previous drain started, and by beat as a safety net). Late
    acknowledgement: a worker that dies mid-drain leaves its entries to the next drain."""
    return persisting.inbox_drain()


@shared_task(acks_late=True, ignore_result=True)
def process_webhook_deliveries(delivery_pks: list[int]) -> dict[str, int]:
    """Process written deliveries, each once. Late acknowledgement: a worker that dies mid-task
    leaves the message to another; the service's row lock and `processed` flag make a second
    run of those already committed a no-op."""
    return dict(processing.deliveries_process(delivery_pks=delivery_pks))


@shared_task(ignore_result=True)
def redispatch_unprocessed_deliveries(limit: int = 1000) -> int:
    """Enqueue again the accepted deliveries whose task was lost (broker down when they were
    written). Deliveries whose processing failed wait for an admin's "reprocess" instead."""
    pks = selectors.deliveries_never_attempted(received_before=timezone.now() - REDISPATCH_AFTER, limit=limit)
    for start in range(0, len(pks), REDISPATCH_CHUNK):
        process_webhook_deliveries.delay(pks[start : start + REDISPATCH_CHUNK])
    if pks:
        logger.info("webhook deliveries redispatched", extra={"count": len(pks)})
    return len(pks)
