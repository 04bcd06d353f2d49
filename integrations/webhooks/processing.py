"""Processing a written delivery: handing an accepted one to the `webhook_received`
subscribers, exactly once — from the Celery task, or again from the admin's "reprocess"."""

import json
import logging
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.models.webhooks import WebhookDelivery
from integrations.webhooks.records import ERROR_STORED_CHARS
from integrations.webhooks.signals import webhook_received

logger = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome


class ProcessResult:
    PROCESSED = "processed"
    ALREADY_PROCESSED = "already processed"
    NOT_ACCEPTED = "not accepted (rejected or duplicate)"
    NOT_FOUND = "not found"
    FAILED = "failed"


def delivery_process(*, delivery_pk: int) -> str:
    """Hand an accepted delivery to the `webhook_received` subscribers, once.

    The row lock and the `processed` check make a retried, redelivered or concurrent run a
    no-op; the signal goes out inside the transaction that marks the delivery processed, so
    a failing subscriber leaves nothing half-done and the error is recorded instead.
    """
    try:
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.select_for_update(of=("self",))
                .select_related("endpoint")
                .filter(pk=delivery_pk)
                .first()
            )
            if delivery is None:
                return ProcessResult.NOT_FOUND
            if delivery.outcome != Outcome.ACCEPTED:
                return ProcessResult.NOT_ACCEPTED
            if delivery.processed:
                return ProcessResult.ALREADY_PROCESSED
            payload = json.loads(delivery.body)
            webhook_received.send(
                sender=WebhookDelivery, endpoint=delivery.endpoint, delivery=delivery, payload=payload
            )
            delivery.processed = True
            delivery.processed_at = timezone.now()
            delivery.attempts = F("attempts") + 1
            delivery.error = ""
            delivery.save(update_fields=["processed", "processed_at", "attempts", "error"])
    except Exception as exc:
        WebhookDelivery.objects.filter(pk=delivery_pk, processed=False).update(
            attempts=F("attempts") + 1,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_STORED_CHARS],
        )
        logger.warning(
            "webhook delivery processing failed", extra={"delivery": delivery_pk, "error_type": type(exc).__name__}
        )
        return ProcessResult.FAILED
    logger.info("webhook delivery processed", extra={"delivery": delivery_pk})
    return ProcessResult.PROCESSED


def deliveries_process(*, delivery_pks: Iterable[int]) -> Counter:
    """Process these deliveries, one transaction each (also the admin's "reprocess"): those
    already processed are left alone, failed and stuck ones get another attempt. Returns a
    count per result."""
    return Counter(delivery_process(delivery_pk=pk) for pk in delivery_pks)
