"""The resilient outbound layer: every call to an external service goes through it.

    from integrations import outbound

    result = outbound.request(integration="openweathermap", operation="current_weather",
                              method="GET", url=URL, params={"q": city, "appid": key},
                              cache_ttl=600)
    result.data, result.source, result.stale

See docs/outbound.md.
"""

from integrations.outbound.cache import outbound_cache_clear
from integrations.outbound.calls import loggable_url
from integrations.outbound.client import OutboundClient, arequest, cached, get_client, request
from integrations.outbound.errors import (
    IntegrationAuthError,
    IntegrationBadResponse,
    IntegrationClientError,
    IntegrationConnectionError,
    IntegrationHTTPError,
    IntegrationNotFound,
    IntegrationRateLimited,
    IntegrationRequestInvalid,
    IntegrationServerError,
    IntegrationTimeout,
    IntegrationUnavailable,
    OutboundError,
)
from integrations.outbound.results import OutboundResult
from integrations.outbound.retry import parse_retry_after

__all__ = [
    "IntegrationAuthError",
    "IntegrationBadResponse",
    "IntegrationClientError",
    "IntegrationConnectionError",
    "IntegrationHTTPError",
    "IntegrationNotFound",
    "IntegrationRateLimited",
    "IntegrationRequestInvalid",
    "IntegrationServerError",
    "IntegrationTimeout",
    "IntegrationUnavailable",
    "OutboundClient",
    "OutboundError",
    "OutboundResult",
    "arequest",
    "cached",
    "get_client",
    "loggable_url",
    "outbound_cache_clear",
    "parse_retry_after",
    "request",
]
