"""Reading integration settings: `setting_get("TELEGRAM_BOT_TOKEN")` returns the typed value.

Where a value comes from, first match wins: the database (the admin or the API set it), an
environment variable of the same name, the default declared in code.

The settings table is small and read on hot paths, so each process keeps it in memory. Every
write bumps a version stamp in the shared cache (Redis) after commit; a process compares its
stamp with the shared one at most every INTEGRATIONS_SETTINGS_REFRESH_SECONDS and reloads the
table when it differs, so a change reaches every web and Celery process within seconds.

Known settings are declared in code with `register_setting(...)`; any module may add its own.
They are listed in the admin before a value is stored (rows are created for them after
`migrate` and whenever the admin or the API lists settings).
"""

import dataclasses
import json
import logging
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction

from config.errors import DomainError, NotFound
from integrations.models.settings import SETTING_KEY, SETTING_KEY_MESSAGE, setting_is_secret
from integrations.secrets import crypto

logger = logging.getLogger(__name__)

SETTING_TYPES = ("str", "int", "float", "bool", "url", "json", "secret")
VALUE_MAX_LENGTH = 10_000
VERSION_CACHE_KEY = "integrations:settings:version"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_url_validator = URLValidator(schemes=["http", "https"])
_REQUIRED: Any = object()


class SettingInvalid(DomainError):
    """A value that does not fit its setting's type."""

    def __init__(self, detail: str):
        super().__init__(detail, field="value")


class SettingNotFound(NotFound):
    pass


# -------------------------------------------------------------------------------- registry


@dataclasses.dataclass(frozen=True)
class SettingSpec:
    key: str
    type: str = "str"
    description: str = ""
    secret: bool = False
    default: Any = None
    # Only a superuser may change it: e.g. the URL a bot token is sent to (whoever points it at
    # their own server receives the token with the next call).
    superuser_only: bool = False


KNOWN_SETTINGS: dict[str, SettingSpec] = {}


def register_setting(
    key: str,
    *,
    type: str = "str",
    description: str = "",
    secret: bool = False,
    default: Any = None,
    superuser_only: bool = False,
) -> SettingSpec:
    """Declare a known setting (idempotent for an identical declaration)."""
    if not re.fullmatch(SETTING_KEY, key):
        raise ImproperlyConfigured(f"Setting key {key!r}: {SETTING_KEY_MESSAGE.lower()}")
    if type not in SETTING_TYPES:
        raise ImproperlyConfigured(f"Setting {key}: unknown type {type!r}; one of {', '.join(SETTING_TYPES)}.")
    secret = setting_is_secret(type_=type, marked_secret=secret)
    if default is not None:
        try:
            default = value_clean(type, default, key=key, secret=secret)
        except SettingInvalid as exc:
            raise ImproperlyConfigured(f"Default of setting {key}: {exc.detail}") from None
    spec = SettingSpec(
        key=key, type=type, description=description, secret=secret, default=default, superuser_only=superuser_only
    )
    existing = KNOWN_SETTINGS.get(key)
    if existing is not None and existing != spec:
        raise ImproperlyConfigured(f"Setting {key} is already registered with a different declaration.")
    KNOWN_SETTINGS[key] = spec
    return spec


register_setting("TELEGRAM_BOT_TOKEN", type="secret", description="Telegram Bot API token from @BotFather.")
register_setting(
    "TELEGRAM_WEBHOOK_SECRET",
    type="secret",
    description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every webhook call.",
)
register_setting(
    "TELEGRAM_API_URL",
    type="url",
    superuser_only=True,
    description=(
        "Base URL of the Bot API server (a self-hosted one, or a local fake in tests); unset, the "
        "environment variable INTEGRATIONS_TELEGRAM_API_URL applies (https://api.telegram.org). "
        "Only superusers may change it: the bot token is sent there."
    ),
)
register_setting("TELEGRAM_BOT_USERNAME", description="The bot's @username without the @, for invitation links.")
register_setting(
    "TELEGRAM_WEBHOOK_PATH",
    type="secret",
    description=(
        "Optional unguessable extra path segment: Telegram then calls /telegram-webhook/<segment> and the "
        "bare path is refused."
    ),
)
register_setting(
    "TELEGRAM_CHAT_ID",
    description=(
        "Chat ids (comma-separated) that receive every notification of every owner, as the original "
        "server's TELEGRAM_CHAT_ID did."
    ),
)
register_setting("WEBIM_ACCOUNT_URL", type="url", description="Base URL of the Webim account, e.g. https://x.webim.ru.")
register_setting("WEBIM_TOKEN", type="secret", description="Webim Custom Channel access token.")
register_setting("OPENWEATHERMAP_API_KEY", type="secret", description="OpenWeatherMap API key (appid).")
register_setting("GITHUB_TOKEN", type="secret", description="GitHub token for the REST API (raises the rate limit).")


# ------------------------------------------------------------------------------ typed values


def _shown(raw: Any, secret: bool) -> str:
    return "" if secret else f", got {str(raw)[:100]!r}"


def value_clean(type_: str, raw: Any, *, key: str = "value", secret: bool = False) -> Any:
    """The typed value of `raw` for a setting of type `type_`, or SettingInvalid.

    A string is read as text (as in the database, the environment or an admin form): "42" for
    an int, "yes" for a bool, JSON text for json. Other Python values must already have the
    type. The error message never repeats a secret's value.
    """
    if isinstance(raw, str) and len(raw) > VALUE_MAX_LENGTH:
        raise SettingInvalid(f"{key} is longer than {VALUE_MAX_LENGTH} characters.")
    if type_ in ("str", "secret"):
        if not isinstance(raw, str):
            raise SettingInvalid(f"{key} must be text{_shown(raw, secret)}.")
        if type_ == "secret" and not raw:
            raise SettingInvalid(f"{key} must not be empty.")
        return raw
    if type_ == "int":
        if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,30}\s*", raw):
            return int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise SettingInvalid(f"{key} must be a whole number{_shown(raw, secret)}.")
    if type_ == "float":
        value = None
        if isinstance(raw, str):
            try:
                value = float(raw)
            except ValueError:
                pass
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        if value is None or not math.isfinite(value):
            raise SettingInvalid(f"{key} must be a finite number{_shown(raw, secret)}.")
        return value
    if type_ == "bool":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower() if isinstance(raw, str | int) else None
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise SettingInvalid(f"{key} must be true or false (or yes/no, on/off, 1/0){_shown(raw, secret)}.")
    if type_ == "url":
        value = raw.strip() if isinstance(raw, str) else None
        try:
            _url_validator(value)
        except (ValidationError, TypeError):
            raise SettingInvalid(f"{key} must be an http(s) URL{_shown(raw, secret)}.") from None
        return value
    if type_ == "json":
        if isinstance(raw, str):
            try:
                return json.loads(raw)
            except ValueError as exc:
                detail = "" if secret else f" ({exc.msg} at line {exc.lineno} column {exc.colno})"
                raise SettingInvalid(f"{key} must be valid JSON{detail}.") from None
        try:
            json.dumps(raw, allow_nan=False)
        except (TypeError, ValueError):
            raise SettingInvalid(f"{key} must be a JSON value.") from None
        return raw
    raise SettingInvalid(f"{key} has an unknown type {type_!r}.")


def value_to_text(type_: str, value: Any) -> str:
    """The text form stored in the database (and shown in forms) of a clean value."""
    if type_ == "bool":
        return "true" if value else "false"
    if type_ == "json":
        return json.dumps(value, ensure_ascii=False)
    if type_ == "float":
        return repr(float(value))
    return str(value)


def setting_type_of(key: str, row_type: str) -> str:
    """Code declares the type of known settings; the row's type is used for the others."""
    spec = KNOWN_SETTINGS.get(key)
    return spec.type if spec else row_type


def _env_value(key: str) -> str | None:
    raw = os.environ.get(key)
    return raw if raw else None  # `KEY=` in a .env file means "not set"


# ---------------------------------------------------------------------- per-process cache


class _NoValue:
    """A row exists but stores no value."""


_NO_VALUE = _NoValue()


@dataclasses.dataclass(frozen=True)
class _Entry:
    type: str
    secret: bool
    value: Any  # the typed value, _NO_VALUE, or the DomainError that reading it raised


def _entry_from_row(row) -> _Entry:
    type_ = setting_type_of(row.key, row.type)
    secret = setting_is_secret(type_=type_, marked_secret=row.is_secret)
    if not row.has_value:
        return _Entry(type_, secret, _NO_VALUE)
    try:
        text = crypto.decrypt(row.value_encrypted, what=f"Setting {row.key}") if row.is_secret else row.value
        return _Entry(type_, secret, value_clean(type_, text, key=row.key, secret=secret))
    except DomainError as exc:
        logger.error("integration setting unreadable", extra={"setting": row.key, "error": exc.__class__.__name__})
        return _Entry(type_, secret, exc)


class SettingsStore:
    """The in-memory copy of the settings table of one process (see the module docstring)."""

    def __init__(self, *, refresh_seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._entries: dict[str, _Entry] | None = None
        self._stamp: Any = None
        self._checked_at = -math.inf
        self._stale = False  # reload at the next read, whatever the stamp says
        # Whether this thread wrote settings in its current transaction: it then reads rows
        # directly, so it sees its own write while uncommitted or rolled-back values never
        # enter the cache shared by the process's threads.
        self._local = threading.local()
        self.loads = 0

    def mark_stale(self) -> None:
        self._stale = True

    def mark_written(self) -> None:
        self._local.written = True
        self._stale = True

    @property
    def refresh_seconds(self) -> float:
        if self._refresh_seconds is not None:
            return self._refresh_seconds
        return settings.INTEGRATIONS_SETTINGS_REFRESH_SECONDS

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        """`setting_get` against this store (tests use a second store as a second process)."""
        return _get(self, key, default)

    def entry(self, key: str) -> _Entry | None:
        if connection.in_atomic_block:
            if getattr(self._local, "written", False):
                return self._entry_direct(key)
        else:
            self._local.written = False
        return self._current().get(key)

    def _current(self) -> dict[str, _Entry]:
        now = self._clock()
        entries = self._entries
        if entries is not None and not self._stale and now - self._checked_at < self.refresh_seconds:
            return entries
        with self._lock:
            if self._entries is None or self._stale or now - self._checked_at >= self.refresh_seconds:
                # The stamp is read before the table: a change committed in between is seen
                # as a new stamp at the next check.
                stamp = _shared_stamp()
                if self._entries is None or self._stale or stamp != self._stamp:
                    self._stale = False
                    self._entries = self._load()
                    self._stamp = stamp
                self._checked_at = now
            return self._entries

    def _load(self) -> dict[str, _Entry]:
        from integrations.models import Setting

        self.loads += 1
        return {row.key: _entry_from_row(row) for row in Setting.objects.all()}

    def _entry_direct(self, key: str) -> _Entry | None:
        from integrations.models import Setting

        row = Setting.objects.filter(key=key).first()
        return _entry_from_row(row) if row is not None else None


def _shared_stamp() -> Any:
    try:
        stamp = cache.get(VERSION_CACHE_KEY)
        if stamp is None:
            # A missing stamp (cache flushed) must not look like "unchanged" forever.
            cache.add(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
            stamp = cache.get(VERSION_CACHE_KEY)
        return stamp
    except Exception as exc:  # cache down: reload from the database at every check
        logger.warning("settings version stamp unavailable", extra={"error": exc.__class__.__name__})
        return object()


def _stamp_bump() -> None:
    store.mark_stale()
    try:
        cache.set(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        logger.warning("settings version stamp not bumped", extra={"error": exc.__class__.__name__})


def settings_changed() -> None:
    """Call after any write to the settings table: this process sees it at once, the others
    once the transaction has committed and their next check has run."""
    store.mark_written()
    transaction.on_commit(_stamp_bump)


store = SettingsStore()


# ----------------------------------------------------------------------------------- reads


def _get(in_memory: "SettingsStore", key: str, default: Any) -> Any:
    spec = KNOWN_SETTINGS.get(key)
    entry = in_memory.entry(key)
    if entry is not None and not isinstance(entry.value, _NoValue):
        if isinstance(entry.value, DomainError):
            raise entry.value.__class__(entry.value.detail)  # a fresh error, not the cached one
        return entry.value
    env = _env_value(key)
    if env is not None:
        type_ = entry.type if entry else (spec.type if spec else "str")
        secret = entry.secret if entry else bool(spec and spec.secret)
        try:
            return value_clean(type_, env, key=key, secret=secret)
        except SettingInvalid as exc:
            raise SettingInvalid(f"Environment variable {exc.detail}") from None
    if spec is not None and spec.default is not None:
        return spec.default
    if default is not _REQUIRED:
        return default
    if spec is None and entry is None:
        raise SettingNotFound(f"Unknown setting {key}: declare it with register_setting() or add it in the admin.")
    return None


def setting_get(key: str, default: Any = _REQUIRED) -> Any:
    """The typed value of a setting: database, else environment variable, else declared default.

    `default` is returned when none of these has a value; an unknown key (neither declared
    nor in the database) without `default` raises SettingNotFound. A stored value that cannot
    be read (bad type, undecryptable) raises a DomainError naming the setting, never its value.
    """
    return store.get(key, default)


@dataclasses.dataclass(frozen=True)
class SettingPublicState:
    """What people and the API may see of a setting: secrets masked."""

    value: Any
    source: str | None  # "database" | "environment" | "default" | None
    error: str | None = None


def setting_public_state(setting) -> SettingPublicState:
    """The effective value of a setting row as the admin and the API show it (secrets masked)."""
    spec = KNOWN_SETTINGS.get(setting.key)
    type_ = setting_type_of(setting.key, setting.type)
    secret = setting_is_secret(type_=type_, marked_secret=setting.is_secret)

    def shown(value):
        return crypto.mask(value_to_text(type_, value)) if secret else value

    if setting.has_value:
        entry = _entry_from_row(setting)
        if isinstance(entry.value, DomainError):
            return SettingPublicState(None, "database", entry.value.detail)
        return SettingPublicState(shown(entry.value), "database")
    env = _env_value(setting.key)
    if env is not None:
        try:
            return SettingPublicState(shown(value_clean(type_, env, key=setting.key, secret=secret)), "environment")
        except SettingInvalid as exc:
            return SettingPublicState(None, "environment", f"Environment variable {exc.detail}")
    if spec is not None and spec.default is not None:
        return SettingPublicState(shown(spec.default), "default")
    return SettingPublicState(None, None)
