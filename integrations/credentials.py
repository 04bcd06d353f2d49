"""Credentials resolver: which secret to send to a provider, for an owner or globally.

    credential = credential_resolve(provider="github", owner=device.owner)
    response = client.get(url, **credential.apply({"params": {"q": city}}))
    if response.status_code in (401, 403):
        credential_mark_needs_attention(credential, reason=f"HTTP {response.status_code} from GitHub")

The resolved credential carries the decrypted secret in memory only; its repr masks it, so
it is safe to log the object. An api_key credential placed in a query parameter puts the
secret in the request URL: callers must never log outbound URLs.
"""

import dataclasses
import logging

from asgiref.sync import sync_to_async
from django.db.models import F, Q
from django.utils import timezone

from config.errors import DomainError
from integrations import crypto
from integrations.models import Credential

logger = logging.getLogger(__name__)

ATTENTION_REASON_MAX_LENGTH = 500


class CredentialMissing(DomainError):
    """No credential for a provider: a configuration gap of this hub, not the caller's fault."""

    status_code = 503


@dataclasses.dataclass(frozen=True)
class ResolvedCredential:
    id: int
    provider: str
    owner_id: int | None
    strategy: str
    api_key_in: str
    api_key_name: str
    username: str
    needs_attention: bool
    secret: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        scope = f"owner={self.owner_id}" if self.owner_id else "global"
        return f"<ResolvedCredential #{self.id} {self.provider} {scope} {self.strategy} {crypto.mask(self.secret)}>"

    __str__ = __repr__

    @property
    def is_global(self) -> bool:
        return self.owner_id is None

    def request_auth(self) -> dict:
        """What to add to an httpx (or requests) call: {"headers": ..., "params": ..., "auth": ...}."""
        if self.strategy == Credential.Strategy.BEARER:
            return {"headers": {"Authorization": f"Bearer {self.secret}"}}
        if self.strategy == Credential.Strategy.BASIC:
            return {"auth": (self.username, self.secret)}
        if self.api_key_in == Credential.Placement.QUERY:
            return {"params": {self.api_key_name: self.secret}}
        return {"headers": {self.api_key_name: self.secret}}

    def apply(self, request_kwargs: dict | None = None) -> dict:
        """A copy of `request_kwargs` (for `httpx.Client.request` and friends) with this
        credential added; headers and params given by the caller are kept."""
        kwargs = dict(request_kwargs or {})
        for part, value in self.request_auth().items():
            if part == "auth":
                kwargs["auth"] = value
            else:
                kwargs[part] = {**dict(kwargs.get(part) or {}), **value}
        return kwargs


def _owner_id(owner) -> int | None:
    if owner is None:
        return None
    return owner if isinstance(owner, int) else owner.pk


def credential_resolve(*, provider: str, owner=None, required: bool = False) -> ResolvedCredential | None:
    """The owner's credential for `provider`, else the global one, else None
    (or CredentialMissing when `required`). `owner` is an Owner, its pk, or None."""
    owner_id = _owner_id(owner)
    wanted = Q(owner_id__isnull=True) if owner_id is None else Q(owner_id=owner_id) | Q(owner_id__isnull=True)
    owner_first = F("owner_id").asc(nulls_last=True)
    credential = Credential.objects.filter(wanted, provider=provider).order_by(owner_first).first()
    if credential is None:
        if required:
            scope = "this owner or globally" if owner_id is not None else "globally"
            raise CredentialMissing(
                f"No credential for provider '{provider}' ({scope}); add one under Integrations → Credentials."
            )
        return None
    secret = crypto.decrypt(
        credential.secret_encrypted, what=f"The secret of credential #{credential.pk} ({credential.provider})"
    )
    return ResolvedCredential(
        id=credential.pk,
        provider=credential.provider,
        owner_id=credential.owner_id,
        strategy=credential.strategy,
        api_key_in=credential.api_key_in,
        api_key_name=credential.api_key_name,
        username=credential.username,
        needs_attention=credential.needs_attention,
        secret=secret,
    )


acredential_resolve = sync_to_async(credential_resolve)


def _reason_scrubbed(reason: str, credential: Credential | ResolvedCredential) -> str:
    """The reason without the credential's secret: callers pass error texts, and an HTTP
    error's text may quote the request URL, which holds a query-parameter API key."""
    secret = getattr(credential, "secret", None)
    if secret is None and getattr(credential, "secret_encrypted", ""):
        try:
            secret = crypto.decrypt(credential.secret_encrypted)
        except crypto.DecryptionFailed:
            secret = None
    if secret:
        reason = reason.replace(secret, crypto.mask(secret))
    return reason[:ATTENTION_REASON_MAX_LENGTH]


def credential_mark_needs_attention(credential: Credential | ResolvedCredential, *, reason: str) -> None:
    """Flag a credential the provider refused (401/403), with why and when; the admin lists
    flagged credentials, and saving a new secret clears the flag."""
    reason = _reason_scrubbed(str(reason), credential)
    Credential.objects.filter(pk=credential.id).update(
        needs_attention=True, attention_reason=reason, attention_at=timezone.now()
    )
    logger.warning(
        "integration credential needs attention",
        extra={"credential_id": credential.id, "provider": credential.provider, "reason": reason},
    )


def credential_clear_attention(credential: Credential) -> None:
    Credential.objects.filter(pk=credential.pk).update(needs_attention=False, attention_reason="", attention_at=None)
    logger.info("integration credential attention cleared", extra={"credential_id": credential.pk})
