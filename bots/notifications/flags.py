"""The flag "a flush of this bot user is scheduled": a Redis key per bot user, so that a storm of 5,000
events schedules one flush task per chat instead of 5,000.

An event sets the key with SET NX and schedules a flush only when it was the one that set it.
The flush deletes the key before it reads the pending deliveries (as the webhook inbox's drain
does), so an event committed while it runs schedules the next one: nothing waits for a flush
that already ran. The key expires a little after the flush is due: a lost task costs that much
delay, and the recovery beat (`deliveries_recover`) catches the rest.

After a digest the chat is *quiet* for the digest interval (`quiet`): a flush that events
scheduled meanwhile finds it so, holds the flag until then and leaves the sending to the flush
the digest scheduled, so a storm's events gather instead of going out every few seconds.

Without Redis (embedded mode), or when it does not answer, every event schedules a flush: a
flush that finds nothing pending costs one query.
"""

import functools
import logging
import math
from collections.abc import Iterable

import redis
from django.conf import settings

from integrations.outbound.breaker import redis_client

logger = logging.getLogger(__name__)

# How long a flag outlives the moment its flush is due.
MARGIN_SECONDS = 10


class FlushFlags:
    def __init__(self, client: redis.Redis, *, prefix: str):
        self._client = client
        self._prefix = f"{prefix}:bots:flush-scheduled:"
        self._quiet_prefix = f"{prefix}:bots:quiet:"

    def claim(self, bot_user_ids: Iterable[int], *, due_in: float) -> list[int]:
        """The bot users whose flag this call set: they need a flush scheduled."""
        ids = list(bot_user_ids)
        ttl = math.ceil(due_in) + MARGIN_SECONDS
        try:
            pipe = self._client.pipeline(transaction=False)
            for pk in ids:
                pipe.set(f"{self._prefix}{pk}", "1", nx=True, ex=ttl)
            answers = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("flush flags unavailable, scheduling anyway: %s", exc.__class__.__name__)
            return ids
        return [pk for pk, was_set in zip(ids, answers, strict=True) if was_set]

    def hold(self, bot_user_id: int, *, due_in: float) -> None:
        """A flush is scheduled in `due_in` seconds (its own re-scheduling): events wait for it."""
        try:
            self._client.set(f"{self._prefix}{bot_user_id}", "1", ex=math.ceil(due_in) + MARGIN_SECONDS)
        except redis.RedisError as exc:
            logger.warning("flush flags unavailable: %s", exc.__class__.__name__)

    def release(self, bot_user_id: int) -> None:
        try:
            self._client.delete(f"{self._prefix}{bot_user_id}")
        except redis.RedisError as exc:
            logger.warning("flush flags unavailable: %s", exc.__class__.__name__)

    def quiet(self, bot_user_id: int, *, seconds: float) -> None:
        """No flush sends to this bot user for `seconds` but the one scheduled for then."""
        try:
            self._client.set(f"{self._quiet_prefix}{bot_user_id}", "1", px=max(1, int(seconds * 1000)))
        except redis.RedisError as exc:
            logger.warning("flush flags unavailable: %s", exc.__class__.__name__)

    def quiet_remaining(self, bot_user_id: int) -> float:
        """Seconds until the bot user's quiet time ends (0: not quiet, or Redis not answering)."""
        try:
            milliseconds = self._client.pttl(f"{self._quiet_prefix}{bot_user_id}")
        except redis.RedisError as exc:
            logger.warning("flush flags unavailable: %s", exc.__class__.__name__)
            return 0.0
        return max(0, milliseconds) / 1000


class NoFlags:
    """Embedded mode: every event schedules its flush."""

    def claim(self, bot_user_ids: Iterable[int], *, due_in: float) -> list[int]:
        return list(bot_user_ids)

    def hold(self, bot_user_id: int, *, due_in: float) -> None:
        return None

    def release(self, bot_user_id: int) -> None:
        return None

    def quiet(self, bot_user_id: int, *, seconds: float) -> None:
        return None

    def quiet_remaining(self, bot_user_id: int) -> float:
        return 0.0


@functools.cache
def _flags_for(url: str, prefix: str) -> FlushFlags:
    return FlushFlags(redis_client(url), prefix=prefix)


def flags_get() -> FlushFlags | NoFlags:
    url = settings.REDIS_URL
    if not url:
        return NoFlags()
    return _flags_for(url, settings.CACHES.get("default", {}).get("KEY_PREFIX", ""))
