"""Celery tasks of inbound webhooks; they call the same services as the admin."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from integrations.webhooks import selectors, services

logger = logging.getLogger(__name__)

# A delivery not picked up by a worker this long after it was accepted lost its task.
REDISPATCH_AFTER = dt.timedelta(minutes=1)


@shared_task(acks_late=True, ignore_result=True)
def process_webhook_delivery(delivery_pk: int) -> str:
    """Process one accepted delivery. Late acknowledgement: a worker that dies mid-task leaves
    the message to another; the service's row lock makes the second run a no-op if the first
    had committed."""
    return services.delivery_process(delivery_pk=delivery_pk)


@shared_task(ignore_result=True)
def redispatch_unprocessed_deliveries(limit: int = 1000) -> int:
    """Enqueue again the accepted deliveries whose task was lost (broker down when they
    arrived). Deliveries whose processing failed wait for an admin's "reprocess" instead."""
    pks = selectors.deliveries_never_attempted(received_before=timezone.now() - REDISPATCH_AFTER, limit=limit)
    for pk in pks:
        process_webhook_delivery.delay(pk)
    if pks:
        logger.info("webhook deliveries redispatched", extra={"count": len(pks)})
    return len(pks)
