"""How real senders sign their requests, written from each scheme's documentation (not from
our verifier), so the tests check us against the senders and not against ourselves."""

import base64
import hashlib
import hmac
import time
import uuid


def standard_webhooks_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 HMAC-SHA256 of `{msg_id}.{timestamp}.{body}`, keyed with the base64-decoded
    part of a `whsec_` secret (standardwebhooks.com, "Signature scheme")."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_webhooks_headers(
    *, secret: str, body: bytes, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def github_headers(*, secret: str, body: bytes, delivery: str | None = None, event: str = "push") -> dict[str, str]:
    """GitHub: `X-Hub-Signature-256: sha256=` + hex HMAC-SHA256 of the body, keyed with the
    secret's UTF-8 bytes; the delivery's GUID in `X-GitHub-Delivery`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "User-Agent": "GitHub-Hookshot/test",
    }


def hex_hmac_headers(*, secret: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    """The original lab's sender: `X-Signature: hmac.new(secret.encode(), payload, sha256).hexdigest()`."""
    headers = {"X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    if delivery:
        headers["X-Delivery-Id"] = delivery
    return headers


SIGNERS = {
    "standard_webhooks": lambda secret, body, delivery=None: standard_webhooks_headers(
        secret=secret, body=body, msg_id=delivery
    ),
    "github": lambda secret, body, delivery=None: github_headers(secret=secret, body=body, delivery=delivery),
    "hex_hmac": lambda secret, body, delivery=None: hex_hmac_headers(
        secret=secret, body=body, delivery=delivery or f"evt-{uuid.uuid4().hex}"
    ),
}


def sign(scheme: str, *, secret: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    """Headers a sender of `scheme` would send with `body`."""
    return SIGNERS[scheme](secret, body, delivery)
