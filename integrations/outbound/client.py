"""The one way out: every call to an external service goes through `OutboundClient`.

A call is, in order: a cache lookup (idempotent reads with `cache_ttl`), the integration's
circuit breaker, HTTP attempts with a timeout each, retried with exponential backoff and jitter
on connection errors, timeouts, 429 and 5xx (honouring Retry-After), then the answer is
classified, cached, counted and logged on one line. A failed call serves the cached value,
marked stale, when there is one; otherwise it raises an `OutboundError`.

This module ties the steps together; each lives in its own module: what a call is
(`calls`), when it is retried (`retry`), what an answer means (`classify`), the I/O
(`transport`), what it hands back (`results`), plus `cache`, `breaker` and `metrics`.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import tenacity
from django.conf import settings

from integrations.outbound import cache as outbound_cache
from integrations.outbound import metrics, transport
from integrations.outbound.breaker import Admission, BreakerStore, CircuitBreaker
from integrations.outbound.calls import Call, Expect, OutboundRequest, RetryAfterFn
from integrations.outbound.classify import (
    classify_exception,
    error_body,
    http_error,
    is_outage,
    malformed_body_error,
    outcome_for_status,
    parse_body,
)
from integrations.outbound.errors import IntegrationNotFound, IntegrationUnavailable, OutboundError
from integrations.outbound.results import (
    OutboundResult,
    response_headers,
    result_from_entry,
    result_from_response,
)
from integrations.outbound.retry import parse_retry_after, retry_policy

logger = logging.getLogger("integrations.outbound")


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
        self._http = transport.HTTPClients()

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
        call = Call.prepare(
            integration=integration,
            operation=operation,
            method="GET",
            log_url="(cache)",
            timeout=None,
            idempotent=True,
            expect=expect,
            raise_for_status=raise_for_status,
            retry_after=self._retry_after_header,
        )
        call.cache_key = outbound_cache.entry_key(integration=integration, operation=operation, parts=cache_key_parts)
        entry, _ = outbound_cache.lookup(call.cache_key, integration)
        if entry is None or not entry.is_fresh(self._clock()):
            return None
        metrics.CACHE.labels(integration, operation, "hit").inc()
        return self._cached(call, entry)

    def request(self, **arguments: Any) -> OutboundResult:
        """Call the service. The keyword arguments are the fields of `OutboundRequest`
        (integration, operation, method, url, params, headers, json, …; docs/outbound.md).

        Raises an `OutboundError` subclass for every failure (with `raise_for_status=False`,
        HTTP error answers are returned instead, once retries are exhausted).
        """
        outbound_request = OutboundRequest(**arguments)
        call = Call.for_request(outbound_request, retry_after=self._retry_after_header)
        return self._run(call, transport.sender(self._http.sync(), call.method, outbound_request))

    async def arequest(self, **arguments: Any) -> OutboundResult:
        """`request` for asyncio code (bots). Cache and breaker calls are short Redis round trips."""
        outbound_request = OutboundRequest(**arguments)
        call = Call.for_request(outbound_request, retry_after=self._retry_after_header)
        return await self._arun(
            call, transport.async_sender(self._http.for_running_loop(), call.method, outbound_request)
        )

    def send(self, *, send: transport.SendFn, **call: Any) -> OutboundResult:
        """For adapters that own their HTTP client: `send(timeout)` makes one attempt and returns
        the httpx.Response; retries, breaker, metrics and the log line are applied around it.
        No cache. The other arguments are those of `Call.prepare`: integration, operation,
        method, log_url (safe to log: no token in it), and timeout, idempotent, expect,
        raise_for_status, retry_after if the defaults do not fit."""
        return self._run(self._adapter_call(**call), send)

    async def asend(self, *, send: transport.AsyncSendFn, **call: Any) -> OutboundResult:
        """`send` for asyncio adapters (the python-telegram-bot request class)."""
        return await self._arun(self._adapter_call(**call), send)

    def _adapter_call(self, *, retry_after: RetryAfterFn | None = None, **call: Any) -> Call:
        return Call.prepare(retry_after=retry_after or self._retry_after_header, **call)

    def breaker(self, integration: str) -> CircuitBreaker:
        return CircuitBreaker(integration, store=self._breaker_store, clock=self._clock)

    def _retry_after_header(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"), now=self._clock())

    # -------------------------------------------------------------------------------- running

    def _run(self, call: Call, send: transport.SendFn) -> OutboundResult:
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
            response = tenacity.Retrying(sleep=self._sleep, **retry_policy(call))(attempt)
        except Exception as exc:
            return self._after_exception(call, admitted, exc)
        return self._after_response(call, admitted, response)

    async def _arun(self, call: Call, send: transport.AsyncSendFn) -> OutboundResult:
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
            response = await tenacity.AsyncRetrying(sleep=self._asleep, **retry_policy(call))(attempt)
        except Exception as exc:
            return self._after_exception(call, admitted, exc)
        return self._after_response(call, admitted, response)

    # ------------------------------------------------------------------------- before / after

    def _before(self, call: Call) -> Admission | OutboundResult:
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

    def _after_exception(self, call: Call, admission: Admission, exc: Exception) -> OutboundResult:
        failed = classify_exception(call, exc)
        if failed is None:
            self._finish(call, "error", None, source="api")
            raise exc  # a mistake in our code (a wrong argument): a bug to see
        breaker = self.breaker(call.integration)
        if failed.breaker == "failure":
            breaker.record_failure(admission)
            try:
                return self._fail(call, failed.outcome, None, failed.error)
            except OutboundError as raised:
                raise raised from exc
        if failed.breaker == "success":
            breaker.record_success(admission)  # it answered: not an outage
        self._finish(call, failed.outcome, None, source="api")
        raise failed.error from failed.cause

    def _after_response(self, call: Call, admission: Admission, response: httpx.Response) -> OutboundResult:
        status = response.status_code
        breaker = self.breaker(call.integration)
        if is_outage(status):
            breaker.record_failure(admission)
            if not call.raise_for_status and call.stale_entry is None:
                return self._answer(call, response, outcome_for_status(status), error_body(response.content))
            return self._fail(call, outcome_for_status(status), status, http_error(call, response))

        breaker.record_success(admission)
        if 200 <= status < 300:
            try:
                data = parse_body(response.content, call.expect)
            except ValueError:
                self._finish(call, "bad_response", status, source="api")
                raise malformed_body_error(call, response) from None
            self._remember(call, response, call.cache_ttl, call.cache_ttl + settings.INTEGRATIONS_CACHE_STALE_SECONDS)
            return self._answer(call, response, "ok", data)

        if status == 404 and call.not_found_ttl > 0:
            self._remember(call, response, call.not_found_ttl, call.not_found_ttl)
        if not call.raise_for_status:
            return self._answer(call, response, outcome_for_status(status), error_body(response.content))
        self._finish(call, outcome_for_status(status), status, source="api")
        raise http_error(call, response)

    def _remember(self, call: Call, response: httpx.Response, fresh_seconds: float, keep_seconds: float) -> None:
        if not call.cache_key or call.generations is None:
            return
        now = self._clock()
        entry = outbound_cache.CacheEntry(
            status=response.status_code,
            content=response.content,
            headers=response_headers(response),
            fetched_at=now,
            fresh_until=now + fresh_seconds,
            generations=call.generations,
        )
        outbound_cache.store(call.cache_key, entry, keep_seconds=keep_seconds)

    def _answer(self, call: Call, response: httpx.Response, outcome: str, data: Any) -> OutboundResult:
        duration_ms = self._finish(call, outcome, response.status_code, source="api")
        return result_from_response(call, response, data=data, duration_ms=duration_ms, fetched_at=self._clock())

    def _cached(self, call: Call, entry: outbound_cache.CacheEntry) -> OutboundResult:
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
                    body=error_body(entry.content),
                    source="cache",
                )
            data = error_body(entry.content)
        else:
            data = parse_body(entry.content, call.expect)
        return result_from_entry(call, entry, stale=False, data=data, duration_ms=duration_ms)

    def _fail(self, call: Call, outcome: str, status: int | None, error: OutboundError) -> OutboundResult:
        """The service failed: serve the stale cached answer if there is one, else raise."""
        if call.stale_entry is not None:
            metrics.CACHE.labels(call.integration, call.operation, "stale").inc()
            duration_ms = self._finish(call, outcome, status, source="cache", stale=True)
            return result_from_entry(
                call,
                call.stale_entry,
                stale=True,
                data=parse_body(call.stale_entry.content, call.expect),
                duration_ms=duration_ms,
            )
        self._finish(call, outcome, status, source="api")
        raise error

    def _finish(self, call: Call, outcome: str, status: int | None, *, source: str, stale: bool = False) -> float:
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
