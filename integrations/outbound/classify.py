"""What an answer or a failure of an outbound call means: its outcome label (metrics, the log
line), the `OutboundError` it becomes, and how it counts for the circuit breaker.

A failure of the service, or of the way to it, counts against its breaker and may be answered
from the stale cache. A malformed answer is still an answer: not an outage. A request that
cannot be built or sent as given is never the service's fault.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from integrations.outbound.calls import Call, Expect
from integrations.outbound.errors import (
    IntegrationBadResponse,
    IntegrationConnectionError,
    IntegrationRequestInvalid,
    IntegrationTimeout,
    OutboundError,
    http_error_for,
)

_ERROR_BODY_LIMIT = 2000
# The request surely never reached the service: safe to repeat even when not idempotent.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures of the service (or the way to it), as opposed to mistakes in our request.
_UNAVAILABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)
_MALFORMED = (httpx.TooManyRedirects, httpx.DecodingError)
# The request cannot be built or sent as given: a value HTTP cannot carry, never the service's fault.
_UNSENDABLE = (UnicodeEncodeError, httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def parse_body(content: bytes, expect: Expect) -> Any:
    if expect == "bytes":
        return content
    if expect == "text":
        return content.decode("utf-8", "replace")
    if not content.strip():
        return None
    return json.loads(content)  # ValueError (JSON or Unicode) when malformed


def error_body(content: bytes) -> Any:
    """An error answer's body for the provider: JSON if it parses, else the start of the text."""
    try:
        return json.loads(content) if content.strip() else None
    except ValueError:
        return content[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")


def outcome_for_status(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "http_429"
    return f"http_{status // 100}xx"


def outcome_for_exception(exc: BaseException) -> str:
    """The outcome of an attempt that raised, as a retry reports it."""
    return "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"


def is_outage(status: int) -> bool:
    """An answer that says the service is failing (or refusing us for now): it counts against
    the breaker and a stale cached answer may stand in for it."""
    return status == 429 or status >= 500


def http_error(call: Call, response: httpx.Response) -> OutboundError:
    """The error of an HTTP error answer, with the upstream body for the provider to read."""
    status = response.status_code
    phrase = httpx.codes.get_reason_phrase(status)
    return http_error_for(status)(
        f"{call.integration} answered {status}{' ' + phrase if phrase else ''}.",
        integration=call.integration,
        operation=call.operation,
        status=status,
        body=error_body(response.content),
        attempts=call.attempts,
        retry_after=call.retry_after(response) if status in (429, 503) else None,
    )


def malformed_body_error(call: Call, response: httpx.Response) -> IntegrationBadResponse:
    status = response.status_code
    return IntegrationBadResponse(
        f"{call.integration} answered {status} with a malformed body.",
        integration=call.integration,
        operation=call.operation,
        status=status,
        body=error_body(response.content),
        attempts=call.attempts,
    )


@dataclass(frozen=True)
class FailedCall:
    """What an exception out of the attempts comes to."""

    outcome: str
    error: OutboundError
    # "failure": the service failed (a stale answer may stand in); "success": it answered, if
    # badly; None: the service had no part in it.
    breaker: Literal["failure", "success"] | None
    # What the error is raised from; None hides the original, whose message may hold a secret.
    cause: BaseException | None


def classify_exception(call: Call, exc: Exception) -> FailedCall | None:
    """The failure an exception of httpx means; None for any other: a mistake in our code."""
    kwargs = {"integration": call.integration, "operation": call.operation, "attempts": call.attempts}
    if isinstance(exc, _UNAVAILABLE):
        if isinstance(exc, httpx.TimeoutException):
            error: OutboundError = IntegrationTimeout(f"{call.integration} did not answer in time.", **kwargs)
            return FailedCall("timeout", error, breaker="failure", cause=exc)
        error = IntegrationConnectionError(f"{call.integration} could not be reached.", **kwargs)
        return FailedCall("connection_error", error, breaker="failure", cause=exc)
    if isinstance(exc, _MALFORMED):
        error = IntegrationBadResponse(f"{call.integration} answered with a malformed response.", **kwargs)
        return FailedCall("bad_response", error, breaker="success", cause=exc)
    if isinstance(exc, _UNSENDABLE):
        error = IntegrationRequestInvalid(
            f"The request to {call.integration} could not be sent: a credential or setting it uses holds "
            "characters HTTP cannot carry, or a URL is malformed.",
            **kwargs,
        )
        return FailedCall("invalid_request", error, breaker=None, cause=None)
    return None
