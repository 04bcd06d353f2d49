"""Cache of idempotent reads, in Django's cache (django-redis in production).

An entry holds the answer (status, body, headers) and two times: until when it is fresh, and
— further out — until when it may still be served as stale while the service is failing
(`INTEGRATIONS_CACHE_STALE_SECONDS`). Keys hash everything that identifies the read (method,
URL, params, body, auth headers) so no secret appears in a key.

Clearing is O(1): each entry remembers the generation of its integration (and the global one)
when it was written, and a clear bumps the generation; older entries stop matching and expire
on their own. The lookup fetches the entry and both generations in one round trip.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("integrations.outbound")

_GLOBAL_GENERATION = "outbound:gen"


def _generation_key(integration: str) -> str:
    return f"outbound:gen:{integration}"


@dataclass
class CacheEntry:
    status: int
    content: bytes
    headers: dict[str, str]
    fetched_at: float
    fresh_until: float
    generations: tuple = field(default=(0, 0))

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until


def entry_key(*, integration: str, operation: str, parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()[:40]
    return f"outbound:{integration}:{operation}:{digest}"


def lookup(key: str, integration: str) -> tuple[CacheEntry | None, tuple | None]:
    """The current entry under `key` (or None) and the generations to write a new one under.

    Generations are None when the cache is down: the call goes on without it.
    """
    try:
        found = cache.get_many([key, _GLOBAL_GENERATION, _generation_key(integration)])
    except Exception as exc:  # the cache being down must not fail the call
        logger.warning("outbound cache unavailable: %s", exc.__class__.__name__)
        return None, None
    generations = (found.get(_GLOBAL_GENERATION, 0), found.get(_generation_key(integration), 0))
    entry = found.get(key)
    if not isinstance(entry, CacheEntry) or entry.generations != generations:
        return None, generations
    return entry, generations


def store(key: str, entry: CacheEntry, *, keep_seconds: float) -> None:
    """Write `entry` (its generations read at lookup, before the call: a clear made while the
    call was in flight wins), kept `keep_seconds` (freshness plus the stale window)."""
    try:
        cache.set(key, entry, timeout=max(1, int(keep_seconds)))
    except Exception as exc:
        logger.warning("outbound cache unavailable: %s", exc.__class__.__name__)


def outbound_cache_clear(*, integration: str | None = None) -> None:
    """Forget every cached answer of `integration` (of every integration when None). O(1): the
    generation is bumped, older entries stop matching and expire on their own."""
    key = _GLOBAL_GENERATION if integration is None else _generation_key(integration)
    try:
        cache.incr(key)
    except ValueError:  # first clear: the counter does not exist yet
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)
