"""Reading credentials: which secret to send to a provider, for an owner or globally.

    credential = credential_resolve(provider="github", owner=device.owner)
    response = client.get(url, **credential.apply({"params": {"q": city}}))
    if response.status_code in (401, 403):
        services.credential_mark_needs_attention(credential, reason=f"HTTP {response.status_code} from GitHub")

The resolved credential carries the decrypted secret in memory only; its repr masks it, so
it is safe to log the object. An api_key credential placed in a query parameter puts the
secret in the request URL: callers must never log outbound URLs.
"""

import dataclasses

from django.conf import settings
from django.db.models import F, Q, QuerySet

from config.errors import DomainError
from integrations.models import Credential, Setting
from integrations.secrets import crypto, settings_store


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


def setting_list() -> QuerySet[Setting]:
    """Settings as the API and the admin list them (who changed each one included)."""
    return Setting.objects.select_related("updated_by")


def credential_list() -> QuerySet[Credential]:
    """Credentials as the API and the admin list them (each with its owner)."""
    return Credential.objects.select_related("owner")


def telegram_api_url() -> str:
    """Where every Bot API call goes: the TELEGRAM_API_URL setting, else the environment's
    INTEGRATIONS_TELEGRAM_API_URL (https://api.telegram.org unless a self-hosted server is set)."""
    return settings_store.setting_get("TELEGRAM_API_URL", None) or settings.INTEGRATIONS_TELEGRAM_API_URL
