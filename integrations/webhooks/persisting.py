"""Writing recorded deliveries to the database: from the inbox, in batches, by the drain task
(or one at a time when there is no inbox), and enqueueing the processing of the accepted ones.

Each batch is one transaction; writing an entry twice is a no-op (its inbox id is unique), so
a drain that dies before acknowledging its batch loses nothing and duplicates nothing.
"""

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from rest_framework import status

from integrations.models.webhooks import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import inbox
from integrations.webhooks.records import REJECTED_BODY_STORED_BYTES

logger = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome

LATE_DUPLICATE_ERROR = "Its id was accepted before, longer ago than the dedupe window: recorded, not processed."


@dataclasses.dataclass(frozen=True)
class Written:
    accepted_pks: list[int]
    late_duplicates: list[str]  # inbox ids of deliveries found to be duplicates only when written


def _delivery_of(entry: inbox.Entry) -> WebhookDelivery:
    record = entry.record
    delivery = WebhookDelivery(
        endpoint_id=record["endpoint"],
        delivery_id=record["delivery_id"],
        received_at=dt.datetime.fromtimestamp(record["received_at"], tz=dt.UTC),
        outcome=record["outcome"],
        status_code=record["status_code"],
        is_valid=record["is_valid"],
        headers=record["headers"],
        body=record["body"],
        body_truncated=record["body_truncated"],
        error=record["error"],
        inbox_id=entry.entry_id,
    )
    if entry.duplicate:
        delivery.outcome, delivery.status_code = Outcome.DUPLICATE, status.HTTP_200_OK
        delivery.body_truncated |= len(delivery.body) > REJECTED_BODY_STORED_BYTES
        delivery.body = delivery.body[:REJECTED_BODY_STORED_BYTES]
    return delivery


def _live_endpoint_ids(endpoint_ids: set[int]) -> set[int]:
    return set(WebhookEndpoint.objects.filter(pk__in=endpoint_ids).order_by().values_list("pk", flat=True))


def deliveries_write(
    entries: Sequence[inbox.Entry], *, late_duplicate_status: int = status.HTTP_202_ACCEPTED
) -> Written:
    """Write a batch of recorded deliveries as rows, in one transaction, and enqueue the
    processing of the accepted ones once it commits.

    Writing an entry twice is a no-op (its inbox id is unique). An accepted delivery whose id
    the database already holds as accepted — re-sent after the dedupe window — is written as a
    duplicate, with `late_duplicate_status` as what was answered.
    """
    readable = [entry for entry in entries if entry.record is not None]
    endpoint_ids = {entry.record["endpoint"] for entry in readable}
    try:
        with transaction.atomic():
            live = _live_endpoint_ids(endpoint_ids)
            deliveries = [_delivery_of(entry) for entry in readable if entry.record["endpoint"] in live]
            WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            stored = {
                inbox_id: (pk, outcome)
                for inbox_id, pk, outcome in WebhookDelivery.objects.filter(
                    inbox_id__in=[delivery.inbox_id for delivery in deliveries]
                ).values_list("inbox_id", "pk", "outcome")
            }
            # Not stored, so not by its inbox id: by the unique accepted delivery id.
            late = [delivery for delivery in deliveries if delivery.inbox_id not in stored]
            for delivery in late:
                delivery.outcome, delivery.status_code = Outcome.DUPLICATE, late_duplicate_status
                if late_duplicate_status != status.HTTP_200_OK:
                    delivery.error = LATE_DUPLICATE_ERROR
            WebhookDelivery.objects.bulk_create(late)
            accepted = sorted(pk for pk, outcome in stored.values() if outcome == Outcome.ACCEPTED)
            if accepted:
                transaction.on_commit(lambda: _process_enqueue(accepted))
    except IntegrityError:
        # An endpoint deleted between reading `live` and the INSERT (its foreign key): again,
        # without it.
        if not endpoint_ids - _live_endpoint_ids(endpoint_ids):
            raise
        return deliveries_write(entries, late_duplicate_status=late_duplicate_status)
    skipped = len(entries) - len(deliveries)
    if skipped:
        logger.warning("webhook deliveries not written (endpoint deleted, or unreadable)", extra={"count": skipped})
    return Written(accepted_pks=accepted, late_duplicates=[delivery.inbox_id for delivery in late])


def _process_enqueue(delivery_pks: list[int]) -> None:
    from integrations.webhooks.tasks import process_webhook_deliveries

    try:
        process_webhook_deliveries.delay(delivery_pks)
    except Exception:
        # The deliveries are written; the redispatch task enqueues them again.
        logger.exception("webhook processing enqueue failed", extra={"count": len(delivery_pks)})


def drain_schedule(box: inbox.RedisInbox) -> None:
    """Have a worker drain the inbox soon; called by the delivery that finds no drain scheduled."""
    from integrations.webhooks.tasks import drain_webhook_inbox

    try:
        drain_webhook_inbox.delay()
    except Exception:
        # The delivery is in the inbox; let the next one try again (and the beat's drain).
        logger.exception("webhook inbox drain could not be scheduled")
        box.drain_unscheduled()


def _write_one_by_one(box: inbox.RedisInbox, entries: Sequence[inbox.Entry]) -> None:
    for entry in entries:
        try:
            deliveries_write([entry])
        except (DataError, IntegrityError) as exc:
            box.dead_letter(entry)
            logger.error(
                "webhook inbox entry refused by the database, set aside",
                extra={"entry": entry.entry_id, "error_type": type(exc).__name__},
            )


def inbox_drain(*, max_entries: int | None = None) -> int:
    """Write what waits in the inbox to the database, batch by batch; returns how many entries.

    Each batch is acknowledged after its transaction commits: a drain that dies in between
    leaves its entries pending, and a later drain claims and writes them again (a no-op).
    """
    box = inbox.inbox_get()
    if box is None:
        return 0
    box.drain_unscheduled()
    batch = settings.WEBHOOKS_INBOX_BATCH
    limit = max_entries or 20 * batch
    drained = 0
    while drained < limit:
        entries = box.claim(count=batch)
        if not entries:
            return drained
        try:
            deliveries_write(entries)
        except (DataError, IntegrityError):
            # Something in the batch the database refuses (an OperationalError — the database
            # down — is not that: the task fails and the entries wait). One by one, then, so
            # that one bad entry cannot hold up every later delivery.
            _write_one_by_one(box, entries)
        box.ack([entry.entry_id for entry in entries])
        drained += len(entries)
    # More may be waiting: a fresh task goes on, rather than one holding a worker for good.
    drain_schedule(box)
    return drained
