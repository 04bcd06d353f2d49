"""The integration registry: what an integration is, and where the hub finds them.

An integration is one class in a module under `integrations/providers/<service>/`:

    class CurrentWeather(BaseIntegration):
        metadata = IntegrationMetadata(id="openweathermap.current_weather", version="1.0.0", ...)

        def execute(self, config, *, owner=None, context=None) -> IntegrationResult:
            ...

Defining the class registers it; `registry.discover()` (run when the app loads) imports every
module of every provider folder. Duplicate ids, bad versions and invalid schemas are reported
by the system check in `integrations.registry.checks`, not at import, so one bad module cannot keep the
hub from starting without saying why. See docs/integrations.md.
"""

import contextlib
import dataclasses
import enum
import importlib
import logging
import pkgutil
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from config.errors import NotFound

logger = logging.getLogger(__name__)

PROVIDERS_PACKAGE = "integrations.providers"


class Category(enum.StrEnum):
    MESSAGING = "messaging"
    AI = "ai"
    STORAGE = "storage"
    WEATHER = "weather"
    MAPS = "maps"
    PAYMENTS = "payments"
    CRM = "crm"
    ECOMMERCE = "ecommerce"
    EDUCATION = "education"
    MEDICINE = "medicine"
    NEWS = "news"
    TRANSLATION = "translation"


class ErrorCode(enum.StrEnum):
    """The `error.code` vocabulary of normalized results (the outbound layer's codes, plus ours)."""

    INVALID_CONFIG = "invalid_config"
    CREDENTIALS_MISSING = "credentials_missing"
    UNAUTHORIZED = "unauthorized"  # the service refused the credential (401; 403 where it means that)
    FORBIDDEN = "forbidden"  # the credential is fine but may not do this (e.g. the bot was blocked)
    NOT_FOUND = "not_found"
    CLIENT_ERROR = "client_error"  # the service refused the request itself (400 and friends)
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"
    BAD_RESPONSE = "bad_response"
    INVALID_REQUEST = "invalid_request"  # a stored credential or setting HTTP cannot carry
    CIRCUIT_OPEN = "circuit_open"
    UPSTREAM_ERROR = "upstream_error"
    INTERNAL_ERROR = "internal_error"


# A side-effecting call that failed with one of these surely did not reach the service (or the
# service refused to process it), so trying again later cannot deliver twice.
NOT_DELIVERED_CODES = frozenset({ErrorCode.CONNECTION_ERROR, ErrorCode.CIRCUIT_OPEN, ErrorCode.RATE_LIMITED})

# What the execute API answers for a failed result.
_HTTP_STATUS = {
    ErrorCode.INVALID_CONFIG: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CREDENTIALS_MISSING: 503,
    ErrorCode.INVALID_REQUEST: 503,
    ErrorCode.RATE_LIMITED: 503,
    ErrorCode.CIRCUIT_OPEN: 503,
    ErrorCode.CONNECTION_ERROR: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.INTERNAL_ERROR: 500,
}

SECRET_KEYWORDS = ("x-secret", "writeOnly")


class UnknownIntegration(NotFound):
    pass


# ---------------------------------------------------------------------------------- metadata


@dataclasses.dataclass(frozen=True)
class IntegrationMetadata:
    """What an integration declares about itself; shown in the catalog API as is.

    `config_schema` is a JSON Schema (Draft 2020-12) of the `config` argument of `execute`;
    secret properties carry `"x-secret": true` (or `"writeOnly": true`). `cache_ttl` (seconds)
    makes an idempotent read cacheable; side-effecting integrations run in a Celery task.
    `credentials_setting` names the settings-store key used when no credential is stored.
    """

    id: str  # "<service>.<action>", e.g. "telegram.send_message"
    version: str  # semver, e.g. "1.0.0"
    name: str
    description: str
    category: Category
    config_schema: Mapping[str, Any]
    library: str  # what it talks to the service with, e.g. "python-telegram-bot 22.8" or "httpx"
    side_effecting: bool = False
    cache_ttl: int | None = None
    credentials_provider: str | None = None
    credentials_strategy: str | None = None  # "api_key" | "bearer" | "basic"
    credentials_required: bool = False
    credentials_setting: str | None = None

    @property
    def service(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def operation(self) -> str:
        return self.id.split(".", 1)[-1]

    @property
    def secret_fields(self) -> list[str]:
        """JSON paths ("$.token") of the config properties marked secret."""
        return secret_paths(self.config_schema)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "category": str(self.category),
            "config_schema": self.config_schema,
            "secret_fields": self.secret_fields,
            "credentials": {
                "provider": self.credentials_provider,
                "strategy": self.credentials_strategy,
                "required": self.credentials_required,
                "setting": self.credentials_setting,
            },
            "library": self.library,
            "side_effecting": self.side_effecting,
            "cache_ttl": self.cache_ttl,
        }


def upstream_message(body: Any, key: str = "message") -> str | None:
    """A service's own explanation in a JSON error body (`{"message": "Bad credentials"}`), cut
    short; None when the body holds none."""
    if isinstance(body, dict) and isinstance(body.get(key), str):
        return body[key][:200]
    return None


def is_secret_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and any(schema.get(keyword) is True for keyword in SECRET_KEYWORDS)


def secret_paths(schema: Any, path: str = "$") -> list[str]:
    """JSON paths of the properties marked secret, nested objects and arrays included."""
    found: list[str] = []
    if not isinstance(schema, Mapping):
        return found
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            child = f"{path}.{name}"
            if is_secret_schema(sub):
                found.append(child)
            else:
                found.extend(secret_paths(sub, child))
    items = schema.get("items")
    if isinstance(items, Mapping):
        found.extend(secret_paths(items, f"{path}[*]"))
    return found


# ------------------------------------------------------------------------------------ result


@dataclasses.dataclass(frozen=True)
class IntegrationError:
    code: str
    message: str
    retry_after: float | None = None

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return data

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS.get(self.code, 502)

    @property
    def not_delivered(self) -> bool:
        return self.code in NOT_DELIVERED_CODES


@dataclasses.dataclass(frozen=True)
class IntegrationResult:
    """What `execute` returns: `ok` with a `result` dict, or not ok with an `error`.

    `source` says whether the answer came from the service or the outbound cache; `stale`
    that the service is failing and this is an older cached answer.
    """

    ok: bool
    result: dict | None = None
    error: IntegrationError | None = None
    source: str = "api"
    stale: bool = False

    @classmethod
    def success(cls, result: dict, *, source: str = "api", stale: bool = False) -> "IntegrationResult":
        return cls(ok=True, result=result, source=source, stale=stale)

    @classmethod
    def failure(cls, code: str, message: str, *, retry_after: float | None = None) -> "IntegrationResult":
        return cls(ok=False, error=IntegrationError(code=str(code), message=message, retry_after=retry_after))

    def as_dict(self) -> dict:
        if self.ok:
            return {"ok": True, "result": self.result, "source": self.source, "stale": self.stale}
        return {"ok": False, "error": self.error.as_dict()}


# ------------------------------------------------------------------------------- credentials


@dataclasses.dataclass(frozen=True)
class ResolvedSecret:
    """The secret an integration sends, and where it came from (so a refusal can be flagged)."""

    value: str = dataclasses.field(repr=False)
    origin: str  # "credential" | "setting" | "config"
    credential: Any = None  # integrations.secrets.selectors.ResolvedCredential when origin is "credential"
    setting: str | None = None

    def __repr__(self) -> str:
        return f"<ResolvedSecret from {self.origin}>"

    __str__ = __repr__


# ------------------------------------------------------------------------------- integration


class BaseIntegration:
    """Subclass it, declare `metadata`, implement `execute`; defining the class registers it.

    Pass `register=False` in the class statement for a base class of several integrations.
    """

    metadata: ClassVar[IntegrationMetadata]
    # How failure messages name the service ("GitHub: Bad credentials").
    service_label: ClassVar[str] = ""

    def __init_subclass__(cls, *, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register:
            registry.register(cls)

    def execute(self, config: dict, *, owner=None, context: dict | None = None) -> IntegrationResult:
        """Do the one thing this integration does. `config` has been validated against the
        schema; `owner` (an Owner or None) picks the credential; `context` carries the run id
        and trigger. Never raise for a failure of the service: return `IntegrationResult.failure`.
        """
        raise NotImplementedError

    def summarize(self, result: dict) -> dict:
        """What a run records of a successful result. Results never hold message texts or
        secrets; override this to keep a large result short."""
        return result

    # Helpers for implementations -------------------------------------------------------------

    def resolve_secret(self, owner=None) -> ResolvedSecret | None:
        """The owner's credential, else the global credential, else the settings-store value."""
        from integrations.secrets.selectors import credential_resolve
        from integrations.secrets.settings_store import setting_get

        meta = self.metadata
        if meta.credentials_provider:
            credential = credential_resolve(provider=meta.credentials_provider, owner=owner)
            if credential is not None:
                return ResolvedSecret(value=credential.secret, origin="credential", credential=credential)
        if meta.credentials_setting:
            value = setting_get(meta.credentials_setting, None)
            if value:
                return ResolvedSecret(value=value, origin="setting", setting=meta.credentials_setting)
        return None

    def missing_credentials(self) -> IntegrationResult:
        meta = self.metadata
        where = f"a credential for provider '{meta.credentials_provider}'"
        if meta.credentials_setting:
            where += f" or the setting {meta.credentials_setting}"
        return IntegrationResult.failure(ErrorCode.CREDENTIALS_MISSING, f"{meta.name} needs {where}.")

    def credentials_refused(self, secret: ResolvedSecret | None, *, reason: str) -> None:
        """The service refused the secret: flag the credential for the admin (a setting or a
        config value cannot be flagged; it is logged instead)."""
        from integrations.secrets.services import credential_mark_needs_attention

        if secret is None:
            return
        if secret.credential is not None:
            credential_mark_needs_attention(secret.credential, reason=reason)
        else:
            logger.warning(
                "integration secret refused",
                extra={"integration": self.metadata.id, "origin": secret.origin, "setting": secret.setting},
            )

    def unexpected_format(self) -> IntegrationResult:
        """The service answered, but not in the shape its wire format promises."""
        return IntegrationResult.failure(
            ErrorCode.BAD_RESPONSE, f"{self.service_label} answered in an unexpected format."
        )

    def failure_upstream(self, exc, upstream: str | None, *, secret: ResolvedSecret | None = None) -> IntegrationResult:
        """The normalized failure of an `OutboundError`, in the service's own words when its
        error body gave some (`upstream`, see `upstream_message`)."""
        message = f"{self.service_label}: {upstream}" if upstream else None
        return self.failure_from(exc, secret=secret, message=message)

    def failure_from(
        self,
        exc,
        *,
        secret: ResolvedSecret | None = None,
        message: str | None = None,
        credential_refused: bool | None = None,
    ) -> IntegrationResult:
        """The normalized failure of an `OutboundError`. A 401/403 flags the credential unless
        `credential_refused=False` (a provider whose 403 means something else)."""
        from integrations.outbound import IntegrationAuthError, IntegrationRequestInvalid

        code = exc.code
        if isinstance(exc, IntegrationAuthError):
            if credential_refused is not False:
                self.credentials_refused(secret, reason=f"{self.metadata.service} answered HTTP {exc.status}")
        if isinstance(exc, IntegrationRequestInvalid):
            # Stored before secrets were checked on saving: the secret is the likely culprit.
            self.credentials_refused(secret, reason="The request could not be sent: is the secret printable ASCII?")
        if code == "http_error":
            code = ErrorCode.UPSTREAM_ERROR
        return IntegrationResult.failure(code, message or exc.detail, retry_after=exc.retry_after)


# ---------------------------------------------------------------------------------- registry


class IntegrationRegistry:
    """Every integration class defined, by id; the first registration of an id wins (the
    system check reports the others)."""

    def __init__(self) -> None:
        self._classes: list[type[BaseIntegration]] = []
        self._instances: dict[type, BaseIntegration] = {}
        self.import_errors: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._discovered = False

    def register(self, cls: type[BaseIntegration]) -> type[BaseIntegration]:
        with self._lock:
            if cls not in self._classes:
                self._classes.append(cls)
        return cls

    def registered_classes(self) -> list[type[BaseIntegration]]:
        """Every registered class, duplicates and broken ones included (for the system check)."""
        return list(self._classes)

    def _by_id(self) -> dict[str, type[BaseIntegration]]:
        by_id: dict[str, type[BaseIntegration]] = {}
        for cls in self._classes:
            meta = getattr(cls, "metadata", None)
            if isinstance(meta, IntegrationMetadata) and meta.id not in by_id:
                by_id[meta.id] = cls
        return by_id

    def ids(self) -> list[str]:
        return sorted(self._by_id())

    def all(self) -> list[BaseIntegration]:
        by_id = self._by_id()
        return [self._instance(by_id[key]) for key in sorted(by_id)]

    def get(self, integration_id: str) -> BaseIntegration:
        cls = self._by_id().get(integration_id)
        if cls is None:
            raise UnknownIntegration(f"Unknown integration '{integration_id}'.")
        return self._instance(cls)

    def __contains__(self, integration_id: str) -> bool:
        return integration_id in self._by_id()

    def _instance(self, cls: type[BaseIntegration]) -> BaseIntegration:
        instance = self._instances.get(cls)
        if instance is None:
            with self._lock:
                instance = self._instances.setdefault(cls, cls())
        return instance

    def discover(self, package: str = PROVIDERS_PACKAGE) -> None:
        """Import every module of every provider folder under `package` (once per package)."""
        with self._lock:
            if self._discovered and package == PROVIDERS_PACKAGE:
                return
            root = importlib.import_module(package)
            for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
                service = self._import(info.name)
                if service is not None and info.ispkg:
                    for sub in pkgutil.iter_modules(service.__path__, prefix=f"{info.name}."):
                        if not sub.ispkg and not sub.name.rsplit(".", 1)[-1].startswith(("_", "test")):
                            self._import(sub.name)
            if package == PROVIDERS_PACKAGE:
                self._discovered = True

    def _import(self, module: str):
        try:
            return importlib.import_module(module)
        except Exception as exc:  # reported by the system check, with the module's name
            logger.exception("integration module failed to import", extra={"integration_module": module})
            self.import_errors.append((module, f"{exc.__class__.__name__}: {exc}"))
            return None

    @contextlib.contextmanager
    def isolated(self) -> Iterator["IntegrationRegistry"]:
        """Tests: integrations defined inside the block are forgotten after it."""
        with self._lock:
            classes, errors = list(self._classes), list(self.import_errors)
        try:
            yield self
        finally:
            with self._lock:
                self._classes, self.import_errors = classes, errors
                self._instances = {cls: inst for cls, inst in self._instances.items() if cls in classes}


registry = IntegrationRegistry()


def autodiscover() -> None:
    registry.discover()
