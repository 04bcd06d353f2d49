"""Receiving a delivery — the hot path behind the receiving view: check the request, record it
in the inbox and answer. Nothing else is done with it here.

A delivery is recorded before anything is done with it — rejected ones included: in the inbox
(integrations/webhooks/inbox.py) when the request is answered, then in the database, in
batches, by the drain (persisting.py) — and only accepted ones are processed, by a Celery task,
exactly once (processing.py).
"""

import dataclasses
import datetime as dt
import functools
import json
import logging
import uuid
from collections.abc import Mapping

from django.conf import settings
from django.utils import timezone
from rest_framework import status

from config.errors import BODY_TOO_LARGE, DomainError
from integrations.models.webhooks import WebhookDelivery, WebhookEndpoint
from integrations.secrets import secret_box
from integrations.webhooks import inbox, persisting, selectors, signatures
from integrations.webhooks.endpoints import scheme_checked
from integrations.webhooks.records import inbox_record

logger = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome


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
    return scheme_checked(endpoint.scheme).signature_header


def _json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _store(record: dict, *, seen_key: str = "", seen_seconds: int = 0) -> bool:
    """Record a delivery — in the inbox, or in the database at once without one; with
    `seen_key`, as a duplicate if that id was accepted before. Returns whether it was one."""
    box = inbox.inbox_get()
    if box is None:
        written = persisting.deliveries_write(
            [inbox.Entry(entry_id=f"direct:{uuid.uuid4().hex}", record=record, duplicate=False)],
            late_duplicate_status=status.HTTP_200_OK,
        )
        return bool(written.late_duplicates)
    pushed = box.push(record, seen_key=seen_key, seen_seconds=seen_seconds)
    if pushed.drain_needed:
        persisting.drain_schedule(box)
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
    scheme = scheme_checked(endpoint.scheme)
    now = timezone.now()
    delivery_id = scheme.delivery_id(headers, None if body_too_large else body)
    record = functools.partial(
        inbox_record, endpoint=endpoint, headers=headers, body=body, delivery_id=delivery_id, received_at=now
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
