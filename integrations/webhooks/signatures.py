"""Signature schemes of inbound webhooks: one verifier per scheme, over the raw body bytes.

A verifier tries every active key of the endpoint (several during a rotation), compares in
constant time (`hmac.compare_digest`) and raises a `WebhookRejected` saying why it refused.
The view never parses or re-serializes the body before this check: one changed byte breaks
an HMAC.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence

from django.utils.datastructures import CaseInsensitiveMapping
from rest_framework import status

from config.errors import DomainError
from integrations.models.webhooks import DELIVERY_ID_MAX_LENGTH, WebhookDelivery, WebhookScheme

Outcome = WebhookDelivery.Outcome

# An optional, unsigned timestamp the GitHub and hex schemes check when a sender adds it.
UNSIGNED_TIMESTAMP_HEADER = "X-Webhook-Timestamp"
_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}$")
# Visible ASCII only: ids are stored, shown in the admin and used as idempotency keys.
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]+$")


class WebhookRejected(DomainError):
    outcome: str = Outcome.BAD_SIGNATURE


class MissingSignature(WebhookRejected):
    status_code = status.HTTP_400_BAD_REQUEST
    outcome = Outcome.MISSING_SIGNATURE


class MalformedHeaders(WebhookRejected):
    status_code = status.HTTP_400_BAD_REQUEST
    outcome = Outcome.BAD_HEADERS


class InvalidSignature(WebhookRejected):
    status_code = status.HTTP_401_UNAUTHORIZED
    outcome = Outcome.BAD_SIGNATURE


class TimestampOutOfTolerance(WebhookRejected):
    status_code = status.HTTP_401_UNAUTHORIZED
    outcome = Outcome.STALE_TIMESTAMP


class InvalidSecret(ValueError):
    """A secret given by a person (pasted from the sender's settings) that the scheme cannot use."""


def _sha256_hex(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _hex_matches(*, keys: Sequence[bytes], body: bytes, provided: str) -> bool:
    # compare_digest refuses non-ASCII str: compare bytes, whatever the header holds.
    given = provided.strip().lower().encode("utf-8", "replace")
    return any(hmac.compare_digest(_sha256_hex(key, body).encode(), given) for key in keys)


def _check_timestamp(value: str, *, header: str, tolerance: int, now: float) -> None:
    if not _UNIX_SECONDS.match(value.strip()):
        raise MalformedHeaders(f"The {header} header must be a Unix timestamp in seconds.")
    skew = int(value) - now
    if skew < -tolerance:
        raise TimestampOutOfTolerance(f"The {header} timestamp is too old (tolerance {tolerance} s).")
    if skew > tolerance:
        raise TimestampOutOfTolerance(f"The {header} timestamp is in the future (tolerance {tolerance} s).")


def body_hash_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _case_insensitive(headers: Mapping[str, str]) -> CaseInsensitiveMapping:
    # A request's headers already are one: not copied again on the receiving path.
    return headers if isinstance(headers, CaseInsensitiveMapping) else CaseInsensitiveMapping(headers)


def delivery_id_check(delivery_id: str) -> None:
    if len(delivery_id) > DELIVERY_ID_MAX_LENGTH or not _DELIVERY_ID.match(delivery_id):
        raise MalformedHeaders(f"The delivery id must be 1 to {DELIVERY_ID_MAX_LENGTH} visible ASCII characters.")


class Scheme:
    """How one family of senders signs: which headers carry what, and what a secret looks like."""

    name: str
    signature_header: str
    # Recorded deliveries show these masked (with Authorization, cookies and API keys).
    masked_headers: tuple[str, ...] = ()

    # Headers that carry the sender's event id, first found wins.
    delivery_id_headers: tuple[str, ...] = ()
    # Without an id header, deliveries are told apart by a hash of the body.
    body_hash_fallback: bool = True

    def delivery_id(self, headers: Mapping[str, str], body: bytes | None) -> str:
        """The sender's id of this event ("" when there is none to record)."""
        headers = _case_insensitive(headers)
        for name in self.delivery_id_headers:
            if value := headers.get(name, "").strip():
                return value
        if self.body_hash_fallback and body is not None:
            return body_hash_id(body)
        return ""

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, keys: Sequence[bytes], tolerance: int, now: float
    ) -> None:
        raise NotImplementedError

    def secret_generate(self) -> str:
        return secrets.token_urlsafe(32)

    def secret_normalize(self, secret: str) -> str:
        """The secret as stored, or InvalidSecret saying what is wrong with it."""
        if secret != secret.strip():
            raise InvalidSecret("The secret must not start or end with whitespace.")
        if not 16 <= len(secret) <= 256:
            raise InvalidSecret("The secret must be 16 to 256 characters long.")
        if not secret.isprintable():
            raise InvalidSecret("The secret must be printable text.")
        return secret

    def key(self, secret: str) -> bytes:
        return secret.encode()


class StandardWebhooks(Scheme):
    """https://www.standardwebhooks.com: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`,
    keyed with the base64-decoded bytes of a `whsec_...` secret."""

    name = WebhookScheme.STANDARD_WEBHOOKS
    signature_header = "webhook-signature"
    masked_headers = ("webhook-signature",)
    delivery_id_headers = ("webhook-id",)
    body_hash_fallback = False
    SECRET_PREFIX = "whsec_"
    # The spec's bounds for a symmetric secret: 24 to 64 random bytes.
    SECRET_MIN_BYTES = 24
    SECRET_MAX_BYTES = 64

    def verify(self, *, headers, body, keys, tolerance, now):
        headers = _case_insensitive(headers)
        signature = headers.get("webhook-signature", "")
        if not signature:
            raise MissingSignature("Missing the webhook-signature header.")
        msg_id, timestamp = headers.get("webhook-id", "").strip(), headers.get("webhook-timestamp", "").strip()
        if not msg_id or not timestamp:
            raise MissingSignature("Standard Webhooks need the webhook-id and webhook-timestamp headers.")
        _check_timestamp(timestamp, header="webhook-timestamp", tolerance=tolerance, now=now)
        provided = []
        for entry in signature.split():
            version, _, encoded = entry.partition(",")
            if version != "v1":
                continue  # v1a (asymmetric) and future versions: not ours to check
            try:
                provided.append(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                continue
        if not provided:
            raise InvalidSignature("The webhook-signature header holds no v1 signature.")
        signed = f"{msg_id}.{timestamp}.".encode() + body
        for key in keys:
            expected = hmac.new(key, signed, hashlib.sha256).digest()
            if any(hmac.compare_digest(expected, candidate) for candidate in provided):
                return
        raise InvalidSignature("Invalid signature.")

    def secret_generate(self) -> str:
        return self.SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()

    def secret_normalize(self, secret: str) -> str:
        raw = secret.strip().removeprefix(self.SECRET_PREFIX)
        try:
            # Some senders drop the base64 padding.
            key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSecret("A Standard Webhooks secret is 'whsec_' followed by base64.") from None
        if not self.SECRET_MIN_BYTES <= len(key) <= self.SECRET_MAX_BYTES:
            raise InvalidSecret(
                f"A Standard Webhooks secret decodes to {self.SECRET_MIN_BYTES} to {self.SECRET_MAX_BYTES} bytes."
            )
        return self.SECRET_PREFIX + base64.b64encode(key).decode()

    def key(self, secret: str) -> bytes:
        return base64.b64decode(secret.removeprefix(self.SECRET_PREFIX))


class GitHub(Scheme):
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, id in `X-GitHub-Delivery`."""

    name = WebhookScheme.GITHUB
    signature_header = "X-Hub-Signature-256"
    masked_headers = ("X-Hub-Signature-256", "X-Hub-Signature")
    delivery_id_headers = ("X-GitHub-Delivery",)
    PREFIX = "sha256="

    def verify(self, *, headers, body, keys, tolerance, now):
        headers = _case_insensitive(headers)
        signature = headers.get(self.signature_header, "")
        if not signature:
            raise MissingSignature(f"Missing the {self.signature_header} header.")
        if not signature.startswith(self.PREFIX):
            raise InvalidSignature(f"The {self.signature_header} header must be 'sha256=<hex digest>'.")
        if not _hex_matches(keys=keys, body=body, provided=signature[len(self.PREFIX) :]):
            raise InvalidSignature("Invalid signature.")
        if timestamp := headers.get(UNSIGNED_TIMESTAMP_HEADER):
            _check_timestamp(timestamp, header=UNSIGNED_TIMESTAMP_HEADER, tolerance=tolerance, now=now)


class HexHmac(Scheme):
    """The original lab's scheme: `X-Signature: <hex HMAC-SHA256 of the body>`."""

    name = WebhookScheme.HEX_HMAC
    signature_header = "X-Signature"
    masked_headers = ("X-Signature",)
    delivery_id_headers = ("X-Delivery-Id", "X-Request-Id")

    def verify(self, *, headers, body, keys, tolerance, now):
        headers = _case_insensitive(headers)
        signature = headers.get(self.signature_header, "")
        if not signature:
            raise MissingSignature(f"Missing the {self.signature_header} header.")
        if not _hex_matches(keys=keys, body=body, provided=signature.removeprefix("sha256=")):
            raise InvalidSignature("Invalid signature.")
        if timestamp := headers.get(UNSIGNED_TIMESTAMP_HEADER):
            _check_timestamp(timestamp, header=UNSIGNED_TIMESTAMP_HEADER, tolerance=tolerance, now=now)


SCHEMES: dict[str, Scheme] = {scheme.name: scheme for scheme in (StandardWebhooks(), GitHub(), HexHmac())}

# Never stored or shown in clear, whatever the scheme.
ALWAYS_MASKED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"}
    | {header.lower() for scheme in SCHEMES.values() for header in scheme.masked_headers}
)


def scheme_get(name: str) -> Scheme:
    return SCHEMES[name]
