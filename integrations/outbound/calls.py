"""What an outbound call is: the request as the caller asked for it, and the call prepared from it.

`OutboundRequest` holds the keyword arguments of `request`/`arequest`, built once (frozen: the
sync and async paths send the same request). `Call` is what the client works with: the
arguments validated and every default settled (method, timeout, idempotency, the URL to log,
the cache key), plus the call's progress (attempts, retries, the cache generations and the
stale entry that may stand in for a failed answer).
"""

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from integrations.outbound import cache as outbound_cache

Expect = Literal["json", "text", "bytes"]
TimeoutTypes = float | httpx.Timeout | None
RetryAfterFn = Callable[[httpx.Response], float | None]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def loggable_url(url: str) -> str:
    """The URL without credentials, query string or fragment (where API keys travel)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True, kw_only=True)
class OutboundRequest:
    """The arguments of `OutboundClient.request` and `arequest`; docs/outbound.md explains each."""

    integration: str
    operation: str
    method: str
    url: str
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None
    headers: Mapping[str, str] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    content: bytes | None = None
    auth: httpx.Auth | tuple[str, str] | None = None
    timeout: TimeoutTypes = None
    cache_ttl: float | None = None
    cache_key_parts: Any = None
    not_found_ttl: float | None = None
    expect: Expect = "json"
    idempotent: bool | None = None
    raise_for_status: bool = True
    log_url: str | None = None

    def httpx_arguments(self) -> dict[str, Any]:
        """What httpx sends, besides the method, the URL and the timeout of each attempt."""
        return {
            "params": self.params,
            "headers": self.headers,
            "json": self.json,
            "data": self.data,
            "content": self.content,
            "auth": self.auth,
        }

    def identity(self, method: str) -> list:
        """What identifies the read when the caller gives no `cache_key_parts`."""
        return [
            method,
            self.url,
            sorted(httpx.QueryParams(self.params).multi_items()),
            self.json,
            self.data,
            self.content.hex() if self.content else None,
            # Not through httpx.Headers: a value it cannot encode fails the send, classified there.
            sorted((str(key).lower(), str(value)) for key, value in dict(self.headers or {}).items()),
            getattr(self.auth, "__dict__", self.auth),
        ]


@dataclass
class Call:
    """One call under way: its settled parameters, then what happened so far."""

    integration: str
    operation: str
    method: str
    log_url: str
    timeout: httpx.Timeout
    idempotent: bool
    expect: Expect
    raise_for_status: bool
    retry_after: RetryAfterFn
    cache_key: str | None = None
    cache_ttl: float = 0
    not_found_ttl: float = 0
    started: float = field(default_factory=time.perf_counter)
    attempts: int = 0
    retries: int = 0
    generations: tuple | None = None
    stale_entry: outbound_cache.CacheEntry | None = None

    @classmethod
    def prepare(
        cls,
        *,
        integration: str,
        operation: str,
        method: str,
        log_url: str,
        retry_after: RetryAfterFn,
        timeout: TimeoutTypes = None,
        idempotent: bool | None = None,
        expect: Expect = "bytes",
        raise_for_status: bool = False,
    ) -> "Call":
        """A call without cache: validated names, and the defaults of timeout and idempotency."""
        if not (isinstance(integration, str) and _NAME.match(integration)):
            raise ValueError(f"Invalid integration name: {integration!r}")
        if not (isinstance(operation, str) and _NAME.match(operation)):
            raise ValueError(f"Invalid operation name: {operation!r}")
        if expect not in ("json", "text", "bytes"):
            raise ValueError(f"expect must be json, text or bytes, not {expect!r}")
        method = method.upper()
        if timeout is None:
            timeout = settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(float(timeout))
        return cls(
            integration=integration,
            operation=operation,
            method=method,
            log_url=log_url,
            timeout=timeout,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else bool(idempotent),
            expect=expect,
            raise_for_status=raise_for_status,
            retry_after=retry_after,
        )

    @classmethod
    def for_request(cls, request: OutboundRequest, *, retry_after: RetryAfterFn) -> "Call":
        """The call of `request`, with its cache key and lifetimes when it is cached."""
        call = cls.prepare(
            integration=request.integration,
            operation=request.operation,
            method=request.method,
            log_url=request.log_url or loggable_url(request.url),
            timeout=request.timeout,
            idempotent=request.idempotent,
            expect=request.expect,
            raise_for_status=request.raise_for_status,
            retry_after=retry_after,
        )
        if request.cache_ttl:
            if not call.idempotent:
                raise ValueError("Only idempotent calls can be cached.")
            parts = request.identity(call.method) if request.cache_key_parts is None else request.cache_key_parts
            call.cache_key = outbound_cache.entry_key(
                integration=request.integration, operation=request.operation, parts=parts
            )
            call.cache_ttl = float(request.cache_ttl)
            call.not_found_ttl = float(
                settings.INTEGRATIONS_CACHE_NOT_FOUND_SECONDS
                if request.not_found_ttl is None
                else request.not_found_ttl
            )
        return call
