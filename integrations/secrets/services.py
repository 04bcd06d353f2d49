"""Every write of settings and credentials goes through these functions: the admin, the API,
tasks, commands and the outbound layer's reports (a refused credential) call them."""

import logging
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import DomainError, NotFound, PermissionDenied
from config.services import model_update
from integrations.models import SETTING_KEY, SETTING_KEY_MESSAGE, Credential, Setting, setting_is_secret
from integrations.secrets import crypto, settings_store
from integrations.secrets.selectors import ResolvedCredential

logger = logging.getLogger(__name__)


UNCHANGED: Any = object()
ATTENTION_REASON_MAX_LENGTH = 500


def _user_or_none(user):
    return user if getattr(user, "pk", None) else None


def settings_sync_known() -> int:
    """Make the table match the settings declared in code: a row for each (so the admin lists
    it before a value is stored), with the declared type, description and secrecy.

    Returns how many rows were created or corrected; reads only when nothing differs.
    """
    specs = settings_store.KNOWN_SETTINGS
    rows = {row.key: row for row in Setting.objects.filter(key__in=list(specs))}
    missing = [
        Setting(key=spec.key, type=spec.type, description=spec.description, is_secret=spec.secret)
        for key, spec in specs.items()
        if key not in rows
    ]
    changed = 0
    if missing:
        changed += len(Setting.objects.bulk_create(missing, ignore_conflicts=True))
        settings_store.settings_changed()
    for key, row in rows.items():
        spec = specs[key]
        if (row.type, row.description, row.is_secret) == (spec.type, spec.description, spec.secret):
            continue
        with transaction.atomic():
            row = Setting.objects.select_for_update().get(pk=row.pk)
            _setting_secrecy_apply(row, secret=spec.secret)
            row.type, row.description = spec.type, spec.description
            row.save()
        changed += 1
    return changed


def _setting_secrecy_apply(setting: Setting, *, secret: bool) -> None:
    """Move a stored value to the column its secrecy calls for (a setting became secret)."""
    if setting.is_secret == secret:
        return
    if secret and setting.value is not None:
        setting.value_encrypted, setting.value = crypto.encrypt(setting.value), None
    elif not secret and setting.value_encrypted:
        setting.value = crypto.decrypt(setting.value_encrypted, what=f"Setting {setting.key}")
        setting.value_encrypted = ""
    setting.is_secret = secret


def _setting_store_value(setting: Setting, value: Any) -> None:
    """Validate `value` for the setting's type and store it (None removes the stored value)."""
    if value is None:
        setting.value, setting.value_encrypted = None, ""
        return
    type_ = settings_store.setting_type_of(setting.key, setting.type)
    secret = setting_is_secret(type_=type_, marked_secret=setting.is_secret)
    clean = settings_store.value_clean(type_, value, key=setting.key, secret=secret)
    text = settings_store.value_to_text(type_, clean)
    if secret:
        setting.value, setting.value_encrypted = None, crypto.encrypt(text)
        setting.is_secret = True  # a row not yet synced with a declaration that made it secret
    else:
        setting.value, setting.value_encrypted = text, ""


def setting_update(
    *, setting: Setting, value: Any = UNCHANGED, description: str | None = None, updated_by=None
) -> Setting:
    """Change a setting: `value` is its new value (typed, or its text form), None removes the
    stored value (the environment or the default applies again); `description` can only be
    changed for settings not declared in code."""
    with transaction.atomic():
        setting = Setting.objects.select_for_update().get(pk=setting.pk)
        before = (setting.value, setting.value_encrypted, setting.description)
        spec = settings_store.KNOWN_SETTINGS.get(setting.key)
        if value is not UNCHANGED and value is not None and spec is not None and spec.superuser_only:
            # Removing the value (the environment applies again) is safe; code that writes with
            # no user (a management command) is trusted; people who are no superuser are not.
            if updated_by is not None and not getattr(updated_by, "is_superuser", False):
                raise PermissionDenied(f"Only a superuser may change {setting.key}.")
        if value is not UNCHANGED:
            _setting_store_value(setting, value)
        if description is not None and description != setting.description:
            if setting.key in settings_store.KNOWN_SETTINGS:
                raise DomainError(f"The description of {setting.key} is declared in code.", field="description")
            setting.description = description
        if (setting.value, setting.value_encrypted, setting.description) == before:
            return setting  # nothing changed: keep "last changed" truthful, no reload everywhere
        setting.updated_by = _user_or_none(updated_by)
        setting.save()
    logger.info(
        "integration setting changed",
        extra={"setting": setting.key, "has_value": setting.has_value, "user_id": getattr(updated_by, "pk", None)},
    )
    return setting


def setting_set(*, key: str, value: Any, updated_by=None) -> Setting:
    """Store the value of a setting by key (None removes it); the row of a setting declared
    in code is created on first use."""
    setting = Setting.objects.filter(key=key).first()
    if setting is None:
        if key not in settings_store.KNOWN_SETTINGS:
            raise NotFound(f"Unknown setting {key}.")
        settings_sync_known()
        setting = Setting.objects.get(key=key)
    return setting_update(setting=setting, value=value, updated_by=updated_by)


def setting_create(
    *, key: str, type: str, description: str = "", is_secret: bool = False, value: Any = None, updated_by=None
) -> Setting:
    """Add a setting that is not declared in code (declared ones exist already)."""
    if not re.fullmatch(SETTING_KEY, key or ""):
        raise DomainError(SETTING_KEY_MESSAGE, field="key")
    if key in settings_store.KNOWN_SETTINGS:
        raise DomainError(f"{key} is declared in code; set its value instead.", field="key")
    if type not in settings_store.SETTING_TYPES:
        raise DomainError(f"Type must be one of {', '.join(settings_store.SETTING_TYPES)}.", field="type")
    setting = Setting(
        key=key, type=type, description=description, is_secret=setting_is_secret(type_=type, marked_secret=is_secret)
    )
    _setting_store_value(setting, value)
    setting.updated_by = _user_or_none(updated_by)
    try:
        with transaction.atomic():
            setting.save()
    except IntegrityError:
        raise DomainError(f"A setting {key} already exists.", field="key") from None
    logger.info("integration setting created", extra={"setting": key, "user_id": getattr(updated_by, "pk", None)})
    return setting


def setting_delete(*, setting: Setting) -> None:
    """Delete a setting row; a setting declared in code comes back (without a value) at the
    next sync, so for those this amounts to removing the stored value."""
    key = setting.key
    setting.delete()
    logger.info("integration setting deleted", extra={"setting": key})


_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_QUERY_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,100}$")


def credential_validate(*, strategy: str, api_key_in: str = "", api_key_name: str = "", username: str = "") -> None:
    """The fields a strategy needs are there and well formed (DomainError naming the field)."""
    if strategy not in Credential.Strategy.values:
        raise DomainError(f"Strategy must be one of {', '.join(Credential.Strategy.values)}.", field="strategy")
    if strategy == Credential.Strategy.API_KEY:
        if api_key_in not in Credential.Placement.values:
            raise DomainError("Say where the API key goes: header or query.", field="api_key_in")
        pattern = _HEADER_NAME_RE if api_key_in == Credential.Placement.HEADER else _QUERY_NAME_RE
        if not pattern.match(api_key_name or ""):
            what = "an HTTP header name (e.g. X-API-Key)" if api_key_in == "header" else "a parameter name (e.g. appid)"
            raise DomainError(f"The API key name must be {what}.", field="api_key_name")
    if strategy == Credential.Strategy.BASIC:
        if not username or ":" in username:
            raise DomainError("Basic auth needs a username without ':'.", field="username")


def _credential_fields_normalize(fields: dict) -> dict:
    """Fields a strategy does not use are emptied, so they cannot leak into requests."""
    strategy = fields["strategy"]
    if strategy != Credential.Strategy.API_KEY:
        fields["api_key_in"], fields["api_key_name"] = "", ""
    if strategy != Credential.Strategy.BASIC:
        fields["username"] = ""
    return fields


# What an HTTP header value can carry as httpx sends it (ASCII), without the spaces a header
# line would strip from its ends.
_HEADER_SAFE_RE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")


def credential_secret_validate(secret: str, *, strategy: str, api_key_in: str = "") -> None:
    """The secret can be stored and sent: refused now, rather than every call that uses it failing."""
    if not isinstance(secret, str) or not secret:
        raise DomainError("The secret must not be empty.", field="secret")
    if len(secret) > settings_store.VALUE_MAX_LENGTH or any(ch in secret for ch in "\r\n"):
        raise DomainError("The secret must be one line of at most 10000 characters.", field="secret")
    in_header = strategy == Credential.Strategy.BEARER or (
        strategy == Credential.Strategy.API_KEY and api_key_in == Credential.Placement.HEADER
    )
    if in_header and not _HEADER_SAFE_RE.match(secret):
        raise DomainError(
            "This secret is sent in an HTTP header, which carries only printable ASCII characters "
            "(no spaces at either end): check that it was copied whole and nothing else.",
            field="secret",
        )


def credential_create(
    *,
    provider: str,
    strategy: str,
    secret: str,
    owner=None,
    name: str = "",
    api_key_in: str = "",
    api_key_name: str = "",
    username: str = "",
    updated_by=None,
) -> Credential:
    credential_validate(strategy=strategy, api_key_in=api_key_in, api_key_name=api_key_name, username=username)
    credential_secret_validate(secret, strategy=strategy, api_key_in=api_key_in)
    fields = _credential_fields_normalize(
        {
            "provider": provider,
            "owner": owner,
            "name": name,
            "strategy": strategy,
            "api_key_in": api_key_in,
            "api_key_name": api_key_name,
            "username": username,
        }
    )
    credential = Credential(
        **fields,
        secret_encrypted=crypto.encrypt(secret),
        secret_changed_at=timezone.now(),
        updated_by=_user_or_none(updated_by),
    )
    try:
        with transaction.atomic():
            credential.save()
    except IntegrityError:
        scope = f"owner {owner.slug}" if owner is not None else "everyone (global)"
        raise DomainError(f"A credential for {provider} already exists for {scope}.", field="provider") from None
    logger.info(
        "integration credential created",
        extra={"credential_id": credential.pk, "provider": provider, "owner_id": credential.owner_id},
    )
    return credential


_CREDENTIAL_EDITABLE = {"provider", "owner", "name", "strategy", "api_key_in", "api_key_name", "username"}


def credential_update(*, credential: Credential, secret: str | None = None, updated_by=None, **changes) -> Credential:
    """Change a credential; a new secret clears its needs-attention flag (None keeps the old one)."""
    with transaction.atomic():
        credential = Credential.objects.select_for_update().get(pk=credential.pk)
        model_update(instance=credential, fields=_CREDENTIAL_EDITABLE, data=changes)
        credential_validate(
            strategy=credential.strategy,
            api_key_in=credential.api_key_in,
            api_key_name=credential.api_key_name,
            username=credential.username,
        )
        fields = _credential_fields_normalize(
            {
                "strategy": credential.strategy,
                "api_key_in": credential.api_key_in,
                "api_key_name": credential.api_key_name,
                "username": credential.username,
            }
        )
        for field, value in fields.items():
            setattr(credential, field, value)
        # Against the strategy it will be sent with: a new secret, or the stored one if the
        # strategy or placement changed.
        if secret is not None or {"strategy", "api_key_in"} & set(changes):
            stored = secret if secret is not None else crypto.decrypt(credential.secret_encrypted, what="The secret")
            credential_secret_validate(stored, strategy=credential.strategy, api_key_in=credential.api_key_in)
        if secret is not None:
            credential.secret_encrypted = crypto.encrypt(secret)
            credential.secret_changed_at = timezone.now()
            credential.needs_attention, credential.attention_reason, credential.attention_at = False, "", None
        credential.updated_by = _user_or_none(updated_by)
        try:
            with transaction.atomic():
                credential.save()
        except IntegrityError:
            scope = f"owner {credential.owner.slug}" if credential.owner_id else "everyone (global)"
            raise DomainError(
                f"A credential for {credential.provider} already exists for {scope}.", field="provider"
            ) from None
    logger.info(
        "integration credential changed",
        extra={"credential_id": credential.pk, "provider": credential.provider, "secret_changed": secret is not None},
    )
    return credential


def credential_delete(*, credential: Credential) -> None:
    credential_id, provider = credential.pk, credential.provider
    credential.delete()
    logger.info("integration credential deleted", extra={"credential_id": credential_id, "provider": provider})


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
