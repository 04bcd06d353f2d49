"""A delivery as it is recorded — rejected ones included: the fields of its WebhookDelivery row,
as the inbox carries them, with what is kept of its headers, body and error.

Shared by receiving (which makes the records), persisting (which writes them as rows),
processing (which records its errors) and the admin (which shows the headers).
"""

import datetime as dt
import re
from collections.abc import Mapping

from integrations.models.webhooks import DELIVERY_ID_MAX_LENGTH, WebhookEndpoint
from integrations.webhooks import signatures

# Bodies of deliveries we did not accept are kept only this far: enough to diagnose a
# misconfigured sender, too little for a flood of forged requests to fill the database.
REJECTED_BODY_STORED_BYTES = 4 * 1024
HEADER_VALUE_STORED_CHARS = 2 * 1024
ERROR_STORED_CHARS = 2 * 1024
MASK = "••••"
# Kept in front of a masked value: a signature version (`v1,`, `sha256=`) or an auth scheme (`Bearer `).
_MASK_KEEPS = re.compile(r"^(?:v[0-9]{1,2}a?,|sha[0-9]{1,3}=|[A-Za-z]{1,16} )")


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


def inbox_record(
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
