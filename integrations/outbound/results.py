"""What an outbound call hands back: `OutboundResult`, from the service's answer or the cache."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from integrations.outbound.cache import CacheEntry
from integrations.outbound.calls import Call


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


def response_headers(response: httpx.Response) -> dict[str, str]:
    """The answer's headers, names in lower case, without cookies (neither kept nor cached)."""
    return {key.lower(): value for key, value in response.headers.items() if key.lower() != "set-cookie"}


def result_from_response(
    call: Call, response: httpx.Response, *, data: Any, duration_ms: float, fetched_at: float
) -> OutboundResult:
    return OutboundResult(
        integration=call.integration,
        operation=call.operation,
        status=response.status_code,
        data=data,
        content=response.content,
        headers=response_headers(response),
        source="api",
        stale=False,
        attempts=call.attempts,
        duration_ms=duration_ms,
        fetched_at=fetched_at,
    )


def result_from_entry(call: Call, entry: CacheEntry, *, stale: bool, data: Any, duration_ms: float) -> OutboundResult:
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
