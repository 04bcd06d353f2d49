"""What an outbound call can end in, as domain errors.

Views that let one of these escape answer clean JSON with the status below (the caller of our
API sees "the weather service is unavailable", never a 500). Provider modules catch
`OutboundError` and turn `code` into their normalized error. `transient` says whether trying
again later may help: the client's retry policy repeats the answers whose error is transient
(429, 5xx), and a caller may schedule a retry (e.g. after `retry_after` seconds).
Messages never hold URLs, query strings, credentials or upstream bodies; `body` keeps the
upstream error body for the provider to read, and is never logged.
"""

from datetime import UTC, datetime
from typing import Any

from rest_framework import status as http

from config.errors import DomainError


class OutboundError(DomainError):
    """A call to an external service did not produce a usable answer."""

    status_code = http.HTTP_502_BAD_GATEWAY
    code = "upstream_error"
    transient = False

    def __init__(
        self,
        detail: str,
        *,
        integration: str,
        operation: str,
        status: int | None = None,
        body: Any = None,
        attempts: int = 0,
        retry_after: float | None = None,
        source: str = "api",
    ):
        super().__init__(detail)
        self.source = source  # "cache": a cached "not found" answer
        self.integration = integration
        self.operation = operation
        self.status = status
        self.body = body
        self.attempts = attempts
        self.retry_after = retry_after


class IntegrationUnavailable(OutboundError):
    """The circuit breaker is open: the call was refused without reaching the service."""

    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    code = "circuit_open"
    transient = True

    def __init__(self, *, integration: str, operation: str, open_until: float | None):
        self.open_until = open_until
        if open_until is None:
            detail = f"{integration} is failing; a trial call is in progress."
        else:
            until = datetime.fromtimestamp(open_until, tz=UTC).isoformat(timespec="seconds")
            detail = f"{integration} is failing; circuit open until {until}."
        super().__init__(detail, integration=integration, operation=operation)


class IntegrationTimeout(OutboundError):
    status_code = http.HTTP_504_GATEWAY_TIMEOUT
    code = "timeout"
    transient = True


class IntegrationConnectionError(OutboundError):
    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    code = "connection_error"
    transient = True


class IntegrationBadResponse(OutboundError):
    """The service answered, but not in the expected format (e.g. malformed JSON)."""

    code = "bad_response"


class IntegrationRequestInvalid(OutboundError):
    """The request could not be sent as built: a credential or setting holds what HTTP cannot
    carry (a non-ASCII header value, a malformed URL). Nothing reached the service; retrying
    will not help until the value is corrected: a configuration gap of this hub, like a missing
    credential."""

    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    code = "invalid_request"


class IntegrationHTTPError(OutboundError):
    """The service answered with an error status (after retries, where they apply)."""

    code = "http_error"


class IntegrationServerError(IntegrationHTTPError):
    code = "server_error"
    transient = True


class IntegrationRateLimited(IntegrationHTTPError):
    """429: `retry_after` (seconds) is what the service asked for, when it said."""

    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    code = "rate_limited"
    transient = True


class IntegrationClientError(IntegrationHTTPError):
    """A 4xx other than 401/403/404/429: our request was wrong, retrying will not help."""

    code = "client_error"


class IntegrationAuthError(IntegrationClientError):
    """401/403: the credential is missing, wrong or lacks a permission."""

    code = "unauthorized"


class IntegrationNotFound(IntegrationClientError):
    status_code = http.HTTP_404_NOT_FOUND
    code = "not_found"


def http_error_for(status_code: int) -> type[IntegrationHTTPError]:
    if status_code == 429:
        return IntegrationRateLimited
    if status_code >= 500:
        return IntegrationServerError
    if status_code in (401, 403):
        return IntegrationAuthError
    if status_code == 404:
        return IntegrationNotFound
    return IntegrationClientError
