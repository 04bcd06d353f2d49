"""Refused provisioning-secret checks are throttled per client and per owner; successful
registrations never are.

Semantics:
- Counted: a registration that the secret check refuses — 401 (no secret where the owner needs
  one) or 403 (unknown owner or wrong secret) — on `POST /api/v1/devices/register/` and the
  seed-compatible `POST /register/`. One counter per client address (config/client_address.py,
  `TRUSTED_PROXY_COUNT`) and one per owner slug as sent, known or not (so the throttle tells
  nobody which owners exist), in windows of `DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS`
  (300 s) on the shared cache.
- Throttled: past `DEVICES_REGISTRATION_FAILURES_PER_CLIENT` (20) refusals from one address, or
  `DEVICES_REGISTRATION_FAILURES_PER_OWNER` (100) for one owner, within a window, every further
  refused registration from that address or for that owner is answered 429 with `Retry-After`
  (the seconds left in the window) instead of 401/403, until the window ends. A counter's
  window opens with the first refusal it counts. 0 turns a limit off.
- Never throttled: a registration whose secret (or its owner's policy) is accepted. The check
  always runs first, and the throttle only decides how a refusal is answered: a fleet behind one
  NAT registers after a power cut however many refusals that address collected, and someone
  spraying wrong secrets for an owner cannot lock that owner's devices out.
- What it costs a guesser: its refusals turn into 429s with a wait, on its own address and on
  the owner it targets — not on the fleet — and it becomes visible (one warning per address or
  owner and window, below). It does not stop a guesser that ignores the 429 from trying more
  secrets: that would mean refusing right secrets too, which is what we promised not to do, and
  it is not needed: a provisioning secret is 256 random bits. A misconfigured device that
  retries in a loop is told to back off.
- Cost on the hot path: none for an accepted registration; one cache round trip (a pipeline) for
  a refused one. If the cache is unreachable the throttle is open: the refusal is answered
  401/403 as without it, a warning is logged, and this process does not ask the cache again for
  `_COOL_DOWN_SECONDS`, so an outage does not add a timeout to every refusal.
- Logged: `registration throttled` once per address or owner and window (the refusal that goes
  over the limit), with `scope` (client or owner), `client`, `owner` (the slug as sent),
  `failures` and `retry_after`. Never the secret.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from config.errors import TooManyRequests

logger = logging.getLogger(__name__)

_COOL_DOWN_SECONDS = 10.0
_cache_unavailable_until = 0.0


def registration_refused(*, client: str | None, owner_slug: str) -> None:
    """Count a refused registration; raise TooManyRequests once its address or owner is over
    the limit in its window. `devices.registration.device_provision` calls it for every refusal
    of the secret check."""
    window = settings.DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS
    scopes = [
        (scope, limit, value)
        for scope, limit, value in (
            ("client", settings.DEVICES_REGISTRATION_FAILURES_PER_CLIENT, client),
            ("owner", settings.DEVICES_REGISTRATION_FAILURES_PER_OWNER, owner_slug),
        )
        if limit > 0 and value
    ]
    if window <= 0 or not scopes:
        return
    counted = _count([_key(scope, value) for scope, _, value in scopes], window=window)
    if counted is None:
        return
    over = [
        (scope, limit, count, ttl)
        for (scope, limit, _), (count, ttl) in zip(scopes, counted, strict=True)
        if count > limit
    ]
    if not over:
        return
    retry_after = max(ttl for _, _, _, ttl in over)
    for scope, limit, count, ttl in over:
        if count == limit + 1:
            logger.warning(
                "registration throttled",
                extra={
                    "scope": scope,
                    "client": client,
                    "owner": owner_slug[:64],
                    "failures": count,
                    "retry_after": ttl,
                },
            )
    where = "from this address" if over[0][0] == "client" else "for this owner"
    raise TooManyRequests(
        f"Too many refused registrations {where}; retry in {retry_after} seconds.", retry_after=retry_after
    )


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
    return f"devices:registration-refused:{scope}:{digest}"


def _count(keys: list[str], *, window: int) -> list[tuple[int, int]] | None:
    """Count one more refusal on each counter, in one round trip: (count, seconds left in its
    window) per key. A counter's window opens with its first refusal. None if the cache cannot
    be reached."""
    global _cache_unavailable_until
    if time.monotonic() < _cache_unavailable_until:
        return None
    try:
        client = _redis_client()
        if client is None:  # the embedded local-memory cache: one process, no round trips
            counted = []
            for key in keys:
                cache.add(key, 0, timeout=window)
                counted.append((cache.incr(key), window))
            return counted
        # MULTI/EXEC: the counter and its expiry are created together, so none lives forever.
        pipeline = client.pipeline(transaction=True)
        for key in map(cache.make_key, keys):
            pipeline.set(key, 0, ex=window, nx=True)
            pipeline.incr(key)
            pipeline.ttl(key)
        replies = pipeline.execute()
        return [(replies[i + 1], max(1, replies[i + 2])) for i in range(0, len(replies), 3)]
    except Exception as exc:  # noqa: BLE001  (any cache failure: the throttle fails open)
        _cache_unavailable_until = time.monotonic() + _COOL_DOWN_SECONDS
        logger.warning("registration throttle unavailable", extra={"error": exc.__class__.__name__})
        return None


def _redis_client():
    if not settings.CACHES["default"]["BACKEND"].startswith("django_redis."):
        return None
    return get_redis_connection("default")
