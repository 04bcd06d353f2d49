"""When an outbound call tries again and how long it waits: the tenacity policy of one call.

Retried: connection errors, timeouts, and the answers whose error is transient (429, 5xx).
Retries never repeat a request the service may already have acted on: a non-idempotent call
(POST/PATCH unless told otherwise) is retried only when it surely did not arrive (the
connection failed, or the service answered 429). Waits grow exponentially with jitter; on
429/503 the service's Retry-After is the wait, and a Retry-After beyond the cap ends the call.
"""

import email.utils
import logging
import math
from datetime import UTC

import httpx
import tenacity
from django.conf import settings

from integrations.outbound import metrics
from integrations.outbound.calls import Call
from integrations.outbound.classify import NOT_SENT, outcome_for_exception, outcome_for_status
from integrations.outbound.errors import http_error_for

logger = logging.getLogger("integrations.outbound")


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


def retryable_exception(exc: BaseException, idempotent: bool) -> bool:
    if isinstance(exc, NOT_SENT):
        return True
    return idempotent and isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def retryable_status(status: int, idempotent: bool) -> bool:
    """An answer whose error is transient (429, 5xx) is worth another attempt — for a
    non-idempotent call only a 429, which the service refused to process."""
    if status < 400 or not http_error_for(status).transient:
        return False
    return idempotent or status == 429


class _ServerWait:
    """The wait the service asked for (Retry-After on 429/503) before the next attempt."""

    def __init__(self, call: Call):
        self.call = call

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


def retry_policy(call: Call) -> dict:
    """The arguments of `tenacity.Retrying`/`AsyncRetrying` (all but `sleep`) for `call`."""
    cap = float(settings.INTEGRATIONS_RETRY_MAX_WAIT_SECONDS)
    base = float(settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS)
    server_wait = _ServerWait(call)
    return {
        "stop": (
            tenacity.stop_after_attempt(max(1, int(settings.INTEGRATIONS_RETRY_ATTEMPTS)))
            | _StopIfServerAsksTooLong(server_wait, cap)
        ),
        "wait": _Wait(server_wait, tenacity.wait_exponential_jitter(multiplier=base, max=cap, jitter=base), cap),
        "retry": (
            tenacity.retry_if_exception(lambda exc: retryable_exception(exc, call.idempotent))
            | tenacity.retry_if_result(lambda r: retryable_status(r.status_code, call.idempotent))
        ),
        "before_sleep": lambda retry_state: _record_retry(call, retry_state),
        "retry_error_callback": _last_outcome,
    }


def _record_retry(call: Call, retry_state: tenacity.RetryCallState) -> None:
    """Count the retry and log it at DEBUG (the call's one INFO/WARNING line comes at its end)."""
    outcome = retry_state.outcome
    if outcome.failed:
        reason = outcome_for_exception(outcome.exception())
    else:
        reason = outcome_for_status(outcome.result().status_code)
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
