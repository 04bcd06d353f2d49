"""The one way out: every call to an external service goes through `OutboundClient`.

A call is, in order: a cache lookup (idempotent reads with `cache_ttl`), the integration's
circuit breaker, HTTP attempts with a timeout each, retried with exponential backoff and jitter
on connection errors, timeouts, 429 and 5xx (honouring Retry-After), then the answer is
classified, cached, counted and logged on one line. A failed call serves the cached value,
marked stale, when there is one; otherwise it raises an `OutboundError`.

Retries never repeat a request the service may already have acted on: a non-idempotent call
(POST/PATCH unless told otherwise) is retried only when it surely did not arrive (the
connection failed, or the service answered 429).
"""

import asyncio
import email.utils
import json
import logging
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
import tenacity
from django.conf import settings

from integrations.outbound import cache as outbound_cache
from integrations.outbound import metrics
from integrations.outbound.breaker import Admission, BreakerStore, CircuitBreaker
from integrations.outbound.errors import (
    IntegrationBadResponse,
    IntegrationConnectionError,
    IntegrationNotFound,
    IntegrationRequestInvalid,
    IntegrationTimeout,
    IntegrationUnavailable,
    OutboundError,
    http_error_for,
)

logger = logging.getLogger("integrations.outbound")

Expect = Literal["json", "text", "bytes"]
TimeoutTypes = float | httpx.Timeout | None
SendFn = Callable[[httpx.Timeout], httpx.Response]
AsyncSendFn = Callable[[httpx.Timeout], Awaitable[httpx.Response]]
RetryAfterFn = Callable[[httpx.Response], float | None]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_ERROR_BODY_LIMIT = 2000
# The request surely never reached the service: safe to repeat even when not idempotent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures of the service (or the way to it), as opposed to mistakes in our request.
_UNAVAILABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)
_MALFORMED = (httpx.TooManyRedirects, httpx.DecodingError)
# The request cannot be built or sent as given: a value HTTP cannot carry, never the service's fault.
_UNSENDABLE = (UnicodeEncodeError, httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


@dataclass(frozen=True)
class OutboundResult:
    """An answer, from the service or from the cache.

    `data` is the parsed body: JSON (expect="json"; None for an empty body), text, or bytes.
    `stale` is True when the service failed and this is an older cached answer.
    `attempts` is 0 for a cache hit. `fetched_at` is when the service produced the answer.
    """

    integration: str
    operation: str
    status: int
    data: Any
    content: bytes
    headers: Mapping[str, str]
    source: Literal["api", "cache"]
    stale: bool
    attempts: int
    duration_ms: float
    fetched_at: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass
class _Call:
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


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def loggable_url(url: str) -> str:
    """The URL without credentials, query string or fragment (where API keys travel)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _parse(content: bytes, expect: Expect) -> Any:
    if expect == "bytes":
        return content
    if expect == "text":
        return content.decode("utf-8", "replace")
    if not content.strip():
        return None
    return json.loads(content)  # ValueError (JSON or Unicode) when malformed


def _error_body(content: bytes) -> Any:
    """An error answer's body for the provider: JSON if it parses, else the start of the text."""
    try:
        return json.loads(content) if content.strip() else None
    except ValueError:
        return content[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")


def _headers(response: httpx.Response) -> dict[str, str]:
    return {key.lower(): value for key, value in response.headers.items() if key.lower() != "set-cookie"}


def _outcome_for_status(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "http_429"
    return f"http_{status // 100}xx"


def _retryable_exception(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, _NOT_SENT):
        return True
    return idempotent and isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def _retryable_status(status: int, idempotent: bool) -> bool:
    return status == 429 or (idempotent and status >= 500)


class _ServerWait:
    """The wait the service asked for (Retry-After on 429/503) before the next attempt."""

    def __init__(self, call: _Call, clock: Callable[[], float]):
        self.call = call
        self.clock = clock

    def __call__(self, retry_state: tenacity.RetryCallState) -> float | None:
        outcome = retry_state.outcome
        if outcome is None or outcome.failed:
            return None
        response = outcome.result()
        if response.status_code not in (429, 503):
            return None
        return self.call.retry_after(response)


class _Wait(tenacity.wait.wait_base):
    def __init__(self, server_wait: _ServerWait, backoff: tenacity.wait.wait_base, cap: float):
        self.server_wait = server_wait
        self.backoff = backoff
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        asked = self.server_wait(retry_state)
        if asked is not None:
            return min(asked, self.cap)
        return self.backoff(retry_state)


class _StopIfServerAsksTooLong(tenacity.stop.stop_base):
    """Give up now rather than call back sooner than the service asked: the caller gets the
    429 with `retry_after` and may schedule the work for later."""

    def __init__(self, server_wait: _ServerWait, cap: float):
        self.server_wait = server_wait
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        asked = self.server_wait(retry_state)
        return asked is not None and asked > self.cap


def _last_outcome(retry_state: tenacity.RetryCallState) -> httpx.Response:
    # Out of attempts: hand back the last answer (or raise the last error) to be classified.
    return retry_state.outcome.result()


class OutboundClient:
    """Resilient outbound HTTP. Use the process-wide one (`get_client()`, `request()`).

    `sleep`/`asleep` wait between attempts and `clock` (epoch seconds) drives the breaker, the
    cache freshness and Retry-After dates; tests inject them to check waits without waiting.
    `breaker_store` defaults to the process's store (Redis when REDIS_URL is set).
    """

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        breaker_store: BreakerStore | None = None,
    ):
        self._sleep = sleep
        self._asleep = asleep
        self._clock = clock
        self._breaker_store = breaker_store
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._client_pid: int | None = None
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # ----------------------------------------------------------------------------- public API

    def cached(
        self,
        *,
        integration: str,
        operation: str,
        cache_key_parts: Any,
        expect: Expect = "json",
        raise_for_status: bool = True,
    ) -> OutboundResult | None:
        """The fresh cached answer that `request(..., cache_key_parts=...)` would serve, or None.

        For a caller with work to do before a call that a cache hit makes needless — resolving
        a credential costs a query and a decryption; a hit needs no credential. A hit counts
        as one (and a cached 404 raises, as `request` does); a miss counts nothing, the
        `request` that follows counts it.
        """
        call = self._prepare_send(integration, operation, "GET", "(cache)", None, True, expect, raise_for_status, None)
        call.cache_key = outbound_cache.entry_key(integration=integration, operation=operation, parts=cache_key_parts)
        entry, _ = outbound_cache.lookup(call.cache_key, integration)
        if entry is None or not entry.is_fresh(self._clock()):
            return None
        metrics.CACHE.labels(integration, operation, "hit").inc()
        return self._cached(call, entry)

    def request(
        self,
        *,
        integration: str,
        operation: str,
        method: str,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: TimeoutTypes = None,
        cache_ttl: float | None = None,
        cache_key_parts: Any = None,
        not_found_ttl: float | None = None,
        expect: Expect = "json",
        idempotent: bool | None = None,
        raise_for_status: bool = True,
        log_url: str | None = None,
    ) -> OutboundResult:
        """Call the service; see docs/outbound.md for every argument.

        Raises an `OutboundError` subclass for every failure (with `raise_for_status=False`,
        HTTP error answers are returned instead, once retries are exhausted).
        """
        call = self._prepare(
            integration=integration,
            operation=operation,
            method=method,
            url=url,
            params=params,
            headers=headers,
            json_body=json,
            data=data,
            content=content,
            auth=auth,
            timeout=timeout,
            cache_ttl=cache_ttl,
            cache_key_parts=cache_key_parts,
            not_found_ttl=not_found_ttl,
            expect=expect,
            idempotent=idempotent,
            raise_for_status=raise_for_status,
            log_url=log_url,
            retry_after=None,
        )
        client = self._sync_client()

        def send(http_timeout: httpx.Timeout) -> httpx.Response:
            return client.request(
                call.method,
                url,
                params=params,
                headers=headers,
                json=json,
                data=data,
                content=content,
                auth=auth,
                timeout=http_timeout,
            )

        return self._run(call, send)

    async def arequest(
        self,
        *,
        integration: str,
        operation: str,
        method: str,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: TimeoutTypes = None,
        cache_ttl: float | None = None,
        cache_key_parts: Any = None,
        not_found_ttl: float | None = None,
        expect: Expect = "json",
        idempotent: bool | None = None,
        raise_for_status: bool = True,
        log_url: str | None = None,
    ) -> OutboundResult:
        """`request` for asyncio code (bots). Cache and breaker calls are short Redis round trips."""
        call = self._prepare(
            integration=integration,
            operation=operation,
            method=method,
            url=url,
            params=params,
            headers=headers,
            json_body=json,
            data=data,
            content=content,
            auth=auth,
            timeout=timeout,
            cache_ttl=cache_ttl,
            cache_key_parts=cache_key_parts,
            not_found_ttl=not_found_ttl,
            expect=expect,
            idempotent=idempotent,
            raise_for_status=raise_for_status,
            log_url=log_url,
            retry_after=None,
        )
        client = self._async_client()

        async def send(http_timeout: httpx.Timeout) -> httpx.Response:
            return await client.request(
                call.method,
                url,
                params=params,
                headers=headers,
                json=json,
                data=data,
                content=content,
                auth=auth,
                timeout=http_timeout,
            )

        return await self._arun(call, send)

    def send(
        self,
        *,
        integration: str,
        operation: str,
        method: str,
        log_url: str,
        send: SendFn,
        timeout: TimeoutTypes = None,
        idempotent: bool | None = None,
        expect: Expect = "bytes",
        raise_for_status: bool = False,
        retry_after: RetryAfterFn | None = None,
    ) -> OutboundResult:
        """For adapters that own their HTTP client: `send(timeout)` makes one attempt and returns
        the httpx.Response; retries, breaker, metrics and the log line are applied around it.
        No cache. `log_url` must be safe to log (no token in it)."""
        call = self._prepare_send(
            integration, operation, method, log_url, timeout, idempotent, expect, raise_for_status, retry_after
        )
        return self._run(call, send)

    async def asend(
        self,
        *,
        integration: str,
        operation: str,
        method: str,
        log_url: str,
        send: AsyncSendFn,
        timeout: TimeoutTypes = None,
        idempotent: bool | None = None,
        expect: Expect = "bytes",
        raise_for_status: bool = False,
        retry_after: RetryAfterFn | None = None,
    ) -> OutboundResult:
        """`send` for asyncio adapters (the python-telegram-bot request class)."""
        call = self._prepare_send(
            integration, operation, method, log_url, timeout, idempotent, expect, raise_for_status, retry_after
        )
        return await self._arun(call, send)

    def breaker(self, integration: str) -> CircuitBreaker:
        return CircuitBreaker(integration, store=self._breaker_store, clock=self._clock)

    # ------------------------------------------------------------------------------ preparing

    def _prepare(
        self,
        *,
        integration,
        operation,
        method,
        url,
        params,
        headers,
        json_body,
        data,
        content,
        auth,
        timeout,
        cache_ttl,
        cache_key_parts,
        not_found_ttl,
        expect,
        idempotent,
        raise_for_status,
        log_url,
        retry_after,
    ) -> _Call:
        call = self._prepare_send(
            integration,
            operation,
            method,
            log_url or loggable_url(url),
            timeout,
            idempotent,
            expect,
            raise_for_status,
            retry_after,
        )
        if cache_ttl:
            if not call.idempotent:
                raise ValueError("Only idempotent calls can be cached.")
            if cache_key_parts is None:
                cache_key_parts = [
                    call.method,
                    url,
                    sorted(httpx.QueryParams(params).multi_items()),
                    json_body,
                    data,
                    content.hex() if content else None,
                    # Not through httpx.Headers: a value it cannot encode fails the send, classified there.
                    sorted((str(key).lower(), str(value)) for key, value in dict(headers or {}).items()),
                    getattr(auth, "__dict__", auth),
                ]
            call.cache_key = outbound_cache.entry_key(
                integration=integration, operation=operation, parts=cache_key_parts
            )
            call.cache_ttl = float(cache_ttl)
            call.not_found_ttl = float(
                settings.INTEGRATIONS_CACHE_NOT_FOUND_SECONDS if not_found_ttl is None else not_found_ttl
            )
        return call

    def _prepare_send(
        self, integration, operation, method, log_url, timeout, idempotent, expect, raise_for_status, retry_after
    ) -> _Call:
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
        return _Call(
            integration=integration,
            operation=operation,
            method=method,
            log_url=log_url,
            timeout=timeout,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else bool(idempotent),
            expect=expect,
            raise_for_status=raise_for_status,
            retry_after=retry_after or self._retry_after_header,
        )

    def _retry_after_header(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"), now=self._clock())

    def _sync_client(self) -> httpx.Client:
        pid = os.getpid()
        if self._client is None or self._client_pid != pid:
            with self._lock:
                if self._client is None or self._client_pid != pid:
                    # A client inherited through fork shares its sockets with the parent: new one.
                    self._client = httpx.Client(follow_redirects=True, headers={"User-Agent": "Switchboard"})
                    self._client_pid = pid
        return self._client

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = httpx.AsyncClient(
                follow_redirects=True, headers={"User-Agent": "Switchboard"}
            )
        return client

    # -------------------------------------------------------------------------------- running

    def _run(self, call: _Call, send: SendFn) -> OutboundResult:
        admitted = self._before(call)
        if isinstance(admitted, OutboundResult):
            return admitted

        def attempt() -> httpx.Response:
            call.attempts += 1
            started = time.perf_counter()
            try:
                return send(call.timeout)
            finally:
                metrics.DURATION.labels(call.integration, call.operation).observe(time.perf_counter() - started)

        try:
            response = tenacity.Retrying(sleep=self._sleep, **self._retry_policy(call))(attempt)
        except Exception as exc:
            return self._after_exception(call, admitted, exc)
        return self._after_response(call, admitted, response)

    async def _arun(self, call: _Call, send: AsyncSendFn) -> OutboundResult:
        admitted = self._before(call)
        if isinstance(admitted, OutboundResult):
            return admitted

        async def attempt() -> httpx.Response:
            call.attempts += 1
            started = time.perf_counter()
            try:
                return await send(call.timeout)
            finally:
                metrics.DURATION.labels(call.integration, call.operation).observe(time.perf_counter() - started)

        try:
            response = await tenacity.AsyncRetrying(sleep=self._asleep, **self._retry_policy(call))(attempt)
        except Exception as exc:
            return self._after_exception(call, admitted, exc)
        return self._after_response(call, admitted, response)

    def _retry_policy(self, call: _Call) -> dict:
        cap = float(settings.INTEGRATIONS_RETRY_MAX_WAIT_SECONDS)
        base = float(settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS)
        server_wait = _ServerWait(call, self._clock)
        return {
            "stop": (
                tenacity.stop_after_attempt(max(1, int(settings.INTEGRATIONS_RETRY_ATTEMPTS)))
                | _StopIfServerAsksTooLong(server_wait, cap)
            ),
            "wait": _Wait(server_wait, tenacity.wait_exponential_jitter(multiplier=base, max=cap, jitter=base), cap),
            "retry": (
                tenacity.retry_if_exception(lambda exc: _retryable_exception(exc, call.idempotent))
                | tenacity.retry_if_result(lambda r: _retryable_status(r.status_code, call.idempotent))
            ),
            "before_sleep": lambda retry_state: self._on_retry(call, retry_state),
            "retry_error_callback": _last_outcome,
        }

    def _on_retry(self, call: _Call, retry_state: tenacity.RetryCallState) -> None:
        outcome = retry_state.outcome
        if outcome.failed:
            reason = "timeout" if isinstance(outcome.exception(), httpx.TimeoutException) else "connection_error"
        else:
            reason = _outcome_for_status(outcome.result().status_code)
        wait = retry_state.upcoming_sleep
        call.retries += 1
        metrics.RETRIES.labels(call.integration, call.operation, reason).inc()
        logger.debug(
            "outbound %s.%s attempt %d failed (%s), retrying in %.3f s",
            call.integration,
            call.operation,
            call.attempts,
            reason,
            wait,
            extra={
                "integration": call.integration,
                "operation": call.operation,
                "attempt": call.attempts,
                "outcome": reason,
                "wait_seconds": wait,
            },
        )

    # ------------------------------------------------------------------------- before / after

    def _before(self, call: _Call) -> Admission | OutboundResult:
        """A fresh cache hit, or the breaker's admission (refused: stale value or error)."""
        if call.cache_key:
            entry, call.generations = outbound_cache.lookup(call.cache_key, call.integration)
            if entry is not None and entry.is_fresh(self._clock()):
                metrics.CACHE.labels(call.integration, call.operation, "hit").inc()
                return self._cached(call, entry)
            metrics.CACHE.labels(call.integration, call.operation, "miss").inc()
            if entry is not None and entry.status < 400:
                call.stale_entry = entry
        admission = self.breaker(call.integration).admit()
        if not admission.allowed:
            return self._fail(
                call,
                "circuit_open",
                None,
                IntegrationUnavailable(
                    integration=call.integration, operation=call.operation, open_until=admission.open_until
                ),
            )
        return admission

    def _after_exception(self, call: _Call, admission: Admission, exc: Exception) -> OutboundResult:
        breaker = self.breaker(call.integration)
        kwargs = {"integration": call.integration, "operation": call.operation, "attempts": call.attempts}
        if isinstance(exc, _UNAVAILABLE):
            breaker.record_failure(admission)
            if isinstance(exc, httpx.TimeoutException):
                error: OutboundError = IntegrationTimeout(f"{call.integration} did not answer in time.", **kwargs)
                outcome = "timeout"
            else:
                error = IntegrationConnectionError(f"{call.integration} could not be reached.", **kwargs)
                outcome = "connection_error"
            try:
                return self._fail(call, outcome, None, error)
            except OutboundError as raised:
                raise raised from exc
        if isinstance(exc, _MALFORMED):
            breaker.record_success(admission)  # it answered: not an outage
            self._finish(call, "bad_response", None, source="api")
            raise IntegrationBadResponse(f"{call.integration} answered with a malformed response.", **kwargs) from exc
        if isinstance(exc, _UNSENDABLE):
            self._finish(call, "invalid_request", None, source="api")
            raise IntegrationRequestInvalid(
                f"The request to {call.integration} could not be sent: a credential or setting it uses holds "
                "characters HTTP cannot carry, or a URL is malformed.",
                **kwargs,
            ) from None
        self._finish(call, "error", None, source="api")
        raise exc  # a mistake in our code (a wrong argument): a bug to see

    def _after_response(self, call: _Call, admission: Admission, response: httpx.Response) -> OutboundResult:
        status = response.status_code
        breaker = self.breaker(call.integration)
        if status == 429 or status >= 500:
            breaker.record_failure(admission)
            if not call.raise_for_status and call.stale_entry is None:
                return self._answer(call, response, _outcome_for_status(status), _error_body(response.content))
            return self._fail(call, _outcome_for_status(status), status, self._http_error(call, response))

        breaker.record_success(admission)
        if 200 <= status < 300:
            try:
                data = _parse(response.content, call.expect)
            except ValueError:
                self._finish(call, "bad_response", status, source="api")
                raise IntegrationBadResponse(
                    f"{call.integration} answered {status} with a malformed body.",
                    integration=call.integration,
                    operation=call.operation,
                    status=status,
                    body=_error_body(response.content),
                    attempts=call.attempts,
                ) from None
            self._remember(call, response, call.cache_ttl, call.cache_ttl + settings.INTEGRATIONS_CACHE_STALE_SECONDS)
            return self._answer(call, response, "ok", data)

        if status == 404 and call.not_found_ttl > 0:
            self._remember(call, response, call.not_found_ttl, call.not_found_ttl)
        if not call.raise_for_status:
            return self._answer(call, response, _outcome_for_status(status), _error_body(response.content))
        self._finish(call, _outcome_for_status(status), status, source="api")
        raise self._http_error(call, response)

    def _http_error(self, call: _Call, response: httpx.Response) -> OutboundError:
        status = response.status_code
        phrase = httpx.codes.get_reason_phrase(status)
        return http_error_for(status)(
            f"{call.integration} answered {status}{' ' + phrase if phrase else ''}.",
            integration=call.integration,
            operation=call.operation,
            status=status,
            body=_error_body(response.content),
            attempts=call.attempts,
            retry_after=call.retry_after(response) if status in (429, 503) else None,
        )

    def _remember(self, call: _Call, response: httpx.Response, fresh_seconds: float, keep_seconds: float) -> None:
        if not call.cache_key or call.generations is None:
            return
        now = self._clock()
        entry = outbound_cache.CacheEntry(
            status=response.status_code,
            content=response.content,
            headers=_headers(response),
            fetched_at=now,
            fresh_until=now + fresh_seconds,
            generations=call.generations,
        )
        outbound_cache.store(call.cache_key, entry, keep_seconds=keep_seconds)

    def _answer(self, call: _Call, response: httpx.Response, outcome: str, data: Any) -> OutboundResult:
        duration_ms = self._finish(call, outcome, response.status_code, source="api")
        return OutboundResult(
            integration=call.integration,
            operation=call.operation,
            status=response.status_code,
            data=data,
            content=response.content,
            headers=_headers(response),
            source="api",
            stale=False,
            attempts=call.attempts,
            duration_ms=duration_ms,
            fetched_at=self._clock(),
        )

    def _cached(self, call: _Call, entry: outbound_cache.CacheEntry) -> OutboundResult:
        """A fresh cache hit: the stored answer (a cached 404 raises, like the first one did)."""
        duration_ms = round((time.perf_counter() - call.started) * 1000, 2)
        logger.debug(
            "outbound %s.%s served from cache",
            call.integration,
            call.operation,
            extra={
                "integration": call.integration,
                "operation": call.operation,
                "method": call.method,
                "url": call.log_url,
                "status": entry.status,
                "outcome": "cache_hit",
                "duration_ms": duration_ms,
                "attempt": 0,
                "source": "cache",
                "stale": False,
            },
        )
        if entry.status >= 400:
            if call.raise_for_status:
                raise IntegrationNotFound(
                    f"{call.integration} answered {entry.status} Not Found.",
                    integration=call.integration,
                    operation=call.operation,
                    status=entry.status,
                    body=_error_body(entry.content),
                    source="cache",
                )
            data = _error_body(entry.content)
        else:
            data = _parse(entry.content, call.expect)
        return self._from_entry(call, entry, stale=False, data=data, duration_ms=duration_ms)

    def _from_entry(
        self, call: _Call, entry: outbound_cache.CacheEntry, *, stale: bool, data: Any, duration_ms: float
    ) -> OutboundResult:
        return OutboundResult(
            integration=call.integration,
            operation=call.operation,
            status=entry.status,
            data=data,
            content=entry.content,
            headers=dict(entry.headers),
            source="cache",
            stale=stale,
            attempts=call.attempts,
            duration_ms=duration_ms,
            fetched_at=entry.fetched_at,
        )

    def _fail(self, call: _Call, outcome: str, status: int | None, error: OutboundError) -> OutboundResult:
        """The service failed: serve the stale cached answer if there is one, else raise."""
        if call.stale_entry is not None:
            metrics.CACHE.labels(call.integration, call.operation, "stale").inc()
            duration_ms = self._finish(call, outcome, status, source="cache", stale=True)
            return self._from_entry(
                call,
                call.stale_entry,
                stale=True,
                data=_parse(call.stale_entry.content, call.expect),
                duration_ms=duration_ms,
            )
        self._finish(call, outcome, status, source="api")
        raise error

    def _finish(self, call: _Call, outcome: str, status: int | None, *, source: str, stale: bool = False) -> float:
        """Count the call and write its log line; return its duration."""
        duration_ms = round((time.perf_counter() - call.started) * 1000, 2)
        metrics.REQUESTS.labels(call.integration, call.operation, outcome).inc()
        logger.log(
            logging.INFO if outcome == "ok" else logging.WARNING,
            "outbound %s.%s %s %s -> %s %s in %.0f ms (attempts %d, source %s%s)",
            call.integration,
            call.operation,
            call.method,
            call.log_url,
            status if status is not None else "-",
            outcome,
            duration_ms,
            call.attempts,
            source,
            ", stale" if stale else "",
            extra={
                "integration": call.integration,
                "operation": call.operation,
                "method": call.method,
                "url": call.log_url,
                "status": status,
                "outcome": outcome,
                "duration_ms": duration_ms,
                "attempt": call.attempts,
                "retries": call.retries,
                "source": source,
                "stale": stale,
            },
        )
        return duration_ms


_default_client: OutboundClient | None = None
_default_lock = threading.Lock()


def get_client() -> OutboundClient:
    """The process-wide client (one pooled HTTP client per process, recreated after fork)."""
    global _default_client
    if _default_client is None:
        with _default_lock:
            if _default_client is None:
                _default_client = OutboundClient()
    return _default_client


def request(**kwargs: Any) -> OutboundResult:
    """`OutboundClient.request` on the process-wide client."""
    return get_client().request(**kwargs)


def cached(**kwargs: Any) -> OutboundResult | None:
    """`OutboundClient.cached` on the process-wide client."""
    return get_client().cached(**kwargs)


async def arequest(**kwargs: Any) -> OutboundResult:
    """`OutboundClient.arequest` on the process-wide client."""
    return await get_client().arequest(**kwargs)
