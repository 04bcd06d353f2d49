"""Every write of the webhooks feature: endpoints and their secrets, and deliveries from receipt
to processing. The receiving view, the management API, the admin and the Celery tasks all call
these functions.

A delivery is recorded before anything is done with it — rejected ones included: in the inbox
(integrations/webhooks/inbox.py) when the request is answered, then in the database, in
batches, by the drain — and only accepted ones are processed, by a Celery task, exactly once.
"""

import dataclasses
import datetime as dt
import functools
import json
import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import status

from config.errors import BODY_TOO_LARGE, Conflict, DomainError
from devices.models import Owner
from integrations.models.webhooks import (
    DELIVERY_ID_MAX_LENGTH,
    SECRET_GRACE_MAX_SECONDS,
    TOLERANCE_MAX_SECONDS,
    TOLERANCE_MIN_SECONDS,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)
from integrations.webhooks import inbox, secret_box, selectors, signatures
from integrations.webhooks.signals import webhook_received

logger = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome

# Bodies of deliveries we did not accept are kept only this far: enough to diagnose a
# misconfigured sender, too little for a flood of forged requests to fill the database.
REJECTED_BODY_STORED_BYTES = 4 * 1024
HEADER_VALUE_STORED_CHARS = 2 * 1024
ERROR_STORED_CHARS = 2 * 1024
MASK = "••••"
# Kept in front of a masked value: a signature version (`v1,`, `sha256=`) or an auth scheme (`Bearer `).
_MASK_KEEPS = re.compile(r"^(?:v[0-9]{1,2}a?,|sha[0-9]{1,3}=|[A-Za-z]{1,16} )")


# ---------------------------------------------------------------------------------- endpoints


def _scheme(name: str) -> signatures.Scheme:
    try:
        return signatures.scheme_get(name)
    except KeyError:
        choices = ", ".join(signatures.SCHEMES)
        raise DomainError(f"Unknown signature scheme '{name}'; use one of: {choices}.", field="scheme") from None


def _tolerance_check(tolerance_seconds: int) -> None:
    if not TOLERANCE_MIN_SECONDS <= tolerance_seconds <= TOLERANCE_MAX_SECONDS:
        raise DomainError(f"Use {TOLERANCE_MIN_SECONDS} to {TOLERANCE_MAX_SECONDS} seconds.", field="tolerance_seconds")


def _secret_store(*, endpoint: WebhookEndpoint, secret: str | None) -> tuple[WebhookSecret, str]:
    scheme = _scheme(endpoint.scheme)
    if secret:
        try:
            raw = scheme.secret_normalize(secret)
        except signatures.InvalidSecret as exc:
            raise DomainError(str(exc), field="secret") from None
    else:
        raw = scheme.secret_generate()
    stored = WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=secret_box.encrypt(raw), hint=raw[-4:])
    return stored, raw


@transaction.atomic
def endpoint_create(
    *,
    name: str,
    scheme: str,
    tolerance_seconds: int | None = None,
    is_active: bool = True,
    owner: Owner | None = None,
    secret: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint with one signing secret — generated, or the sender's own when it
    issues them; returns the raw secret, which is never shown again."""
    _scheme(scheme)
    if not name.strip():
        raise DomainError("Give the endpoint a name.", field="name")
    if tolerance_seconds is None:
        tolerance_seconds = settings.WEBHOOKS_DEFAULT_TOLERANCE_SECONDS
    _tolerance_check(tolerance_seconds)
    endpoint = WebhookEndpoint.objects.create(
        name=name.strip(),
        scheme=scheme,
        tolerance_seconds=tolerance_seconds,
        is_active=is_active,
        owner=owner,
    )
    _, raw = _secret_store(endpoint=endpoint, secret=secret)
    logger.info("webhook endpoint created", extra={"endpoint_id": endpoint.pk, "scheme": scheme})
    return endpoint, raw


UPDATABLE_FIELDS = ("name", "tolerance_seconds", "is_active", "owner")


def endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    if "scheme" in fields and fields.pop("scheme") != endpoint.scheme:
        raise DomainError(
            "The scheme of an existing endpoint cannot change (its secrets belong to it); create a new endpoint.",
            field="scheme",
        )
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise DomainError(f"Cannot update: {', '.join(sorted(unknown))}.")
    if "name" in fields:
        if not fields["name"].strip():
            raise DomainError("Give the endpoint a name.", field="name")
        fields["name"] = fields["name"].strip()
    if "tolerance_seconds" in fields:
        _tolerance_check(fields["tolerance_seconds"])
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint, its secrets and its recorded deliveries."""
    endpoint_id = endpoint.pk
    endpoint.delete()
    logger.info("webhook endpoint deleted", extra={"endpoint_id": endpoint_id})


@transaction.atomic
def endpoint_secret_add(
    *, endpoint: WebhookEndpoint, secret: str | None = None, expire_previous_in: int | None = None
) -> tuple[WebhookSecret, str]:
    """Add a signing secret (rotation); returns it with its raw value, shown only this once.

    The previous secrets keep working — until removed, or for `expire_previous_in` seconds
    more when given — so the sender can switch without a lost delivery.
    """
    WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if expire_previous_in is not None:
        if not 0 <= expire_previous_in <= SECRET_GRACE_MAX_SECONDS:
            raise DomainError(
                f"Give a number of seconds from 0 to {SECRET_GRACE_MAX_SECONDS} (a year).",
                field="expire_previous_in_seconds",
            )
        until = timezone.now() + dt.timedelta(seconds=expire_previous_in)
        endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=until)).update(expires_at=until)
    stored, raw = _secret_store(endpoint=endpoint, secret=secret)
    logger.info("webhook secret added", extra={"endpoint_id": endpoint.pk, "secret_id": stored.pk})
    return stored, raw


@transaction.atomic
def endpoint_secret_remove(*, secret: WebhookSecret) -> None:
    """Remove a secret; the last active one stays, or the endpoint would refuse every sender."""
    WebhookEndpoint.objects.select_for_update().filter(pk=secret.endpoint_id).first()
    others_active = selectors.secrets_active().filter(endpoint_id=secret.endpoint_id).exclude(pk=secret.pk)
    if secret.is_active and not others_active.exists():
        raise Conflict("This is the endpoint's only active secret: add a new one before removing it.")
    secret.delete()
    logger.info("webhook secret removed", extra={"endpoint_id": secret.endpoint_id, "secret_id": secret.pk})


# ---------------------------------------------------------------------------------- receiving


class BodyTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class MalformedJson(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST


class InboxFull(DomainError):
    """The inbox holds WEBHOOKS_INBOX_MAX_WAITING deliveries not yet written (no worker drains
    it, or the database does not take them): senders are told to retry rather than Redis,
    which is also the task broker, running out of memory."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    retry_after_seconds = 60


@dataclasses.dataclass(frozen=True)
class Receipt:
    """What the receiving view answers."""

    status_code: int
    payload: dict


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL.
    return text.replace("\x00", "\ufffd")


def headers_masked(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as recorded: signatures and credentials masked (their scheme prefix such as
    `sha256=` kept, to diagnose a sender using the wrong format), long values cut."""
    recorded = {}
    for name, value in headers.items():
        if name.lower() in signatures.ALWAYS_MASKED_HEADERS:
            prefix = _MASK_KEEPS.match(value)
            value = (prefix.group(0) if prefix else "") + MASK
        recorded[_clean(name)] = _clean(value[:HEADER_VALUE_STORED_CHARS])
    return recorded


def _record(
    *,
    endpoint: WebhookEndpoint,
    headers: Mapping[str, str],
    body: bytes,
    delivery_id: str,
    received_at: dt.datetime,
    outcome: str,
    status_code: int,
    is_valid: bool = False,
    error: str = "",
    keep_body: bool = False,
) -> dict:
    """A delivery as the inbox carries it: the fields of its WebhookDelivery row, as JSON."""
    stored = body if keep_body else body[:REJECTED_BODY_STORED_BYTES]
    return {
        "endpoint": endpoint.pk,
        "delivery_id": _clean(delivery_id[:DELIVERY_ID_MAX_LENGTH]),
        "received_at": received_at.timestamp(),
        "outcome": outcome,
        "status_code": status_code,
        "is_valid": is_valid,
        "headers": headers_masked(headers),
        "body": _clean(stored.decode("utf-8", "replace")),
        "body_truncated": len(stored) < len(body),
        "error": error[:ERROR_STORED_CHARS],
    }


def _keys(*, endpoint: WebhookEndpoint, scheme: signatures.Scheme, now: dt.datetime) -> list[bytes]:
    stored = getattr(endpoint, "active_secrets", None)
    if stored is None:
        stored = list(selectors.secrets_active(at=now).filter(endpoint=endpoint))
    keys = []
    # Decrypted once per cached endpoint (see selectors.endpoint_for_receiving), not per delivery.
    decrypted = endpoint.__dict__.setdefault("_decrypted_keys", {})
    for secret in stored:
        if not secret.is_active_at(now):
            continue
        if secret.pk in decrypted:
            keys.append(decrypted[secret.pk])
            continue
        try:
            decrypted[secret.pk] = scheme.key(secret_box.decrypt(secret.secret_encrypted))
            keys.append(decrypted[secret.pk])
        except secret_box.SecretUnreadable:
            logger.error("webhook secret unreadable", extra={"endpoint_id": endpoint.pk, "secret_id": secret.pk})
    if not keys:
        logger.warning("webhook endpoint has no usable secret", extra={"endpoint_id": endpoint.pk})
    return keys


def signature_header(endpoint: WebhookEndpoint) -> str:
    """The header a sender signs its deliveries to this endpoint in."""
    return _scheme(endpoint.scheme).signature_header


def _json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _drain_schedule(box: inbox.RedisInbox) -> None:
    from integrations.webhooks.tasks import drain_webhook_inbox

    try:
        drain_webhook_inbox.delay()
    except Exception:
        # The delivery is in the inbox; let the next one try again (and the beat's drain).
        logger.exception("webhook inbox drain could not be scheduled")
        box.drain_unscheduled()


def _store(record: dict, *, seen_key: str = "", seen_seconds: int = 0) -> bool:
    """Record a delivery — in the inbox, or in the database at once without one; with
    `seen_key`, as a duplicate if that id was accepted before. Returns whether it was one."""
    box = inbox.inbox_get()
    if box is None:
        written = deliveries_write(
            [inbox.Entry(entry_id=f"direct:{uuid.uuid4().hex}", record=record, duplicate=False)],
            late_duplicate_status=status.HTTP_200_OK,
        )
        return bool(written.late_duplicates)
    pushed = box.push(record, seen_key=seen_key, seen_seconds=seen_seconds)
    if pushed.drain_needed:
        _drain_schedule(box)
    if not pushed.recorded:
        logger.error("webhook inbox full: delivery refused", extra={"endpoint_id": record["endpoint"]})
        raise InboxFull("Too many deliveries are waiting to be recorded; retry later.")
    return pushed.duplicate


def delivery_receive(
    *, endpoint: WebhookEndpoint, headers: Mapping[str, str], body: bytes, body_too_large: bool = False
) -> Receipt:
    """Check and record one request to an endpoint; accepted deliveries are processed later.

    `body` is the raw request body; `body_too_large` says it was over WEBHOOKS_BODY_MAX_BYTES
    (and not read). The answer is 202 accepted, 200 for an already-accepted delivery id, or
    400/401/413 with the reason; InboxFull is raised when nothing could be recorded.
    """
    scheme = _scheme(endpoint.scheme)
    now = timezone.now()
    delivery_id = scheme.delivery_id(headers, None if body_too_large else body)
    record = functools.partial(
        _record, endpoint=endpoint, headers=headers, body=body, delivery_id=delivery_id, received_at=now
    )

    def rejected(exc: DomainError, outcome: str, *, is_valid: bool = False) -> Receipt:
        _store(
            record(
                outcome=outcome, status_code=exc.status_code, is_valid=is_valid, error=exc.detail, keep_body=is_valid
            )
        )
        logger.warning("webhook delivery rejected", extra={"endpoint_id": endpoint.pk, "outcome": outcome})
        return Receipt(exc.status_code, {"detail": exc.detail})

    if body_too_large:
        return rejected(BodyTooLarge(BODY_TOO_LARGE), Outcome.TOO_LARGE)
    try:
        scheme.verify(
            headers=headers,
            body=body,
            keys=_keys(endpoint=endpoint, scheme=scheme, now=now),
            tolerance=endpoint.tolerance_seconds,
            now=now.timestamp(),
        )
        signatures.delivery_id_check(delivery_id)
    except signatures.WebhookRejected as exc:
        return rejected(exc, exc.outcome)
    try:
        json.loads(body.decode("utf-8"), parse_constant=_json_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return rejected(MalformedJson("The body is not valid JSON (UTF-8)."), Outcome.MALFORMED_JSON, is_valid=True)

    # Only accepted deliveries mark their id as seen: a forged request carrying a real event's
    # id must not make us drop the genuine one.
    duplicate = _store(
        record(outcome=Outcome.ACCEPTED, status_code=status.HTTP_202_ACCEPTED, is_valid=True, keep_body=True),
        seen_key=f"{endpoint.pk}:{delivery_id}",
        seen_seconds=max(settings.WEBHOOKS_DEDUP_WINDOW_SECONDS, endpoint.tolerance_seconds),
    )
    if duplicate:
        logger.info("webhook delivery duplicate", extra={"endpoint_id": endpoint.pk, "delivery_id": delivery_id})
        return Receipt(status.HTTP_200_OK, {"status": "duplicate", "delivery_id": delivery_id})
    logger.info("webhook delivery accepted", extra={"endpoint_id": endpoint.pk, "delivery_id": delivery_id})
    return Receipt(status.HTTP_202_ACCEPTED, {"status": "accepted", "delivery_id": delivery_id})


# ---------------------------------------------------------------------------------- writing

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
            live = set(WebhookEndpoint.objects.filter(pk__in=endpoint_ids).order_by().values_list("pk", flat=True))
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
        if not endpoint_ids - set(
            WebhookEndpoint.objects.filter(pk__in=endpoint_ids).order_by().values_list("pk", flat=True)
        ):
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
    _drain_schedule(box)
    return drained


# ---------------------------------------------------------------------------------- processing


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
