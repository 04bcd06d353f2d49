"""Telegram's sending limits, shared by every worker process through Redis.

Telegram allows a bot about 30 messages a second overall, one a second per chat (short bursts
are tolerated) and 20 a minute per group, and answers 429 with `retry_after` past them. Every
sender asks `slot_reserve(chat_id, is_group=...)` before a sendMessage: 0 means a slot was
reserved and it may send now, anything else is how many seconds to wait (the caller re-schedules
its task rather than sleeping in the worker). A 429 calls `cooldown_set`: the chat *and* the
whole bot wait exactly `retry_after`, whichever process sends next.

The limits are set a little below Telegram's (and the test fake's: per chat a token bucket of
1/s with a burst of 3, groups 20 per 60 s, the bot 30 per second), so that the network's jitter
between reserving a slot and the request arriving never turns into a 429:

- per chat: a token bucket refilled one token per `TELEGRAM_CHAT_INTERVAL_SECONDS` (1.1 s),
  holding at most `TELEGRAM_CHAT_BURST` (2) tokens;
- per group (chat_type other than private, or a negative chat id): at most
  `TELEGRAM_GROUP_PER_MINUTE` (18) in any 60 seconds, a sliding window;
- the bot: at most `TELEGRAM_BOT_PER_SECOND` (25) in any second, a sliding window.

Why a Lua script and not a limiter library: the decision has to cover four limits at once —
reserve a chat slot only if the group window and the bot window have room too, and not while a
cooldown holds — atomically across processes; the libraries with Redis backends (`limits`,
`redis-rate-limit`, django-ratelimit) check one limit per call, so two calls could each reserve
in one limit and be refused by the other, wasting capacity or, checked in the other order,
letting two processes through at once. They also use the caller's clock; the script reads
Redis's `TIME`, so the workers' clocks do not matter. One round trip per message.

Redis down: fail closed. The script's Redis is the cache's (REDIS_URL), and in every deployment
of the hub the broker is a Redis on the same server, so a flush task would not even be
delivered; when only the cache's Redis fails, waiting `UNAVAILABLE_WAIT_SECONDS` and asking
again keeps the deliveries pending in PostgreSQL (nothing is lost) rather than risking a flood
of 429s that would slow the bot for everyone. Without REDIS_URL (embedded mode: one process,
in-process tasks) there is nothing to share and every slot is granted; a 429 is still waited
out by its `retry_after`.
"""

import functools
import logging
import time

import redis
from django.conf import settings

from integrations.outbound.breaker import redis_client

logger = logging.getLogger(__name__)

UNAVAILABLE_WAIT_SECONDS = 5.0
# State of a chat nobody writes to any more disappears after this.
_KEY_TTL_SECONDS = 3600

# KEYS: bot cooldown, chat cooldown, chat bucket, group window, bot window, sequence.
# ARGV: chat interval (s), chat burst, group limit (0: not a group), group window (s),
# bot limit, bot window (s), key ttl (s).
# Returns 0 (a slot is reserved) or the wait in microseconds (nothing reserved).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local wait = 0
for i = 1, 2 do
  local untill = tonumber(redis.call('GET', KEYS[i]) or '0')
  if untill - now > wait then wait = untill - now end
end
if wait > 0 then return math.ceil(wait * 1e6) end

local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[3], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + (now - at) / interval)
if tokens < 1 then wait = (1 - tokens) * interval end

local group_limit = tonumber(ARGV[3])
local group_window = tonumber(ARGV[4])
if group_limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - group_window)
  if redis.call('ZCARD', KEYS[4]) >= group_limit then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + group_window - now
    if w > wait then wait = w end
  end
end

local bot_limit = tonumber(ARGV[5])
local bot_window = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - bot_window)
if redis.call('ZCARD', KEYS[5]) >= bot_limit then
  local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  local w = tonumber(oldest[2]) + bot_window - now
  if w > wait then wait = w end
end
if wait > 0 then return math.max(1, math.ceil(wait * 1e6)) end

local ttl = tonumber(ARGV[7])
redis.call('HSET', KEYS[3], 'tokens', tostring(tokens - 1), 'at', tostring(now))
redis.call('EXPIRE', KEYS[3], ttl)
local member = tostring(redis.call('INCR', KEYS[6]))
if group_limit > 0 then
  redis.call('ZADD', KEYS[4], now, member)
  redis.call('EXPIRE', KEYS[4], math.ceil(group_window) + 1)
end
redis.call('ZADD', KEYS[5], now, member)
redis.call('EXPIRE', KEYS[5], math.ceil(bot_window) + 1)
return 0
"""

# KEYS: bot cooldown, chat cooldown. ARGV: seconds. Each holds until now + seconds, unless it
# already holds longer.
_COOLDOWN = """
local t = redis.call('TIME')
local untill = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
local ms = math.ceil(tonumber(ARGV[1]) * 1000) + 1000
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') < untill then
    redis.call('SET', KEYS[i], string.format('%.6f', untill), 'PX', ms)
  end
end
return 1
"""


class TelegramLimiter:
    """The limits of one bot, in one Redis (each method is one atomic script)."""

    def __init__(self, client: redis.Redis, *, prefix: str):
        self._prefix = f"{prefix}:bots:telegram:limit:"
        self._reserve = client.register_script(_RESERVE)
        self._cooldown = client.register_script(_COOLDOWN)

    def _cooldown_keys(self, chat_id: str) -> list[str]:
        return [f"{self._prefix}cooldown:bot", f"{self._prefix}cooldown:chat:{chat_id}"]

    def slot_reserve(self, chat_id: int | str, *, is_group: bool) -> float:
        """0: a message to this chat may be sent now (its slot is taken); else seconds to wait."""
        chat = str(chat_id)
        keys = [
            *self._cooldown_keys(chat),
            f"{self._prefix}chat:{chat}",
            f"{self._prefix}group:{chat}",
            f"{self._prefix}bot",
            f"{self._prefix}seq",
        ]
        args = [
            settings.TELEGRAM_CHAT_INTERVAL_SECONDS,
            settings.TELEGRAM_CHAT_BURST,
            settings.TELEGRAM_GROUP_PER_MINUTE if is_group else 0,
            60,
            settings.TELEGRAM_BOT_PER_SECOND,
            1,
            _KEY_TTL_SECONDS,
        ]
        try:
            micros = self._reserve(keys=keys, args=args)
        except redis.RedisError as exc:
            logger.warning("Telegram rate limiter unavailable, waiting: %s", exc.__class__.__name__)
            return UNAVAILABLE_WAIT_SECONDS
        return int(micros) / 1e6

    def cooldown_set(self, chat_id: int | str, *, seconds: float) -> None:
        """After a 429: nobody sends to this chat, nor anything from this bot, for `seconds`."""
        try:
            self._cooldown(keys=self._cooldown_keys(str(chat_id)), args=[repr(float(seconds))])
        except redis.RedisError as exc:
            logger.warning("Telegram rate limiter unavailable, cooldown not shared: %s", exc.__class__.__name__)


class OpenLimiter:
    """Embedded mode (no Redis, one process): every slot is granted."""

    def slot_reserve(self, chat_id: int | str, *, is_group: bool) -> float:
        return 0.0

    def cooldown_set(self, chat_id: int | str, *, seconds: float) -> None:
        return None


@functools.cache
def _limiter_for(url: str, prefix: str) -> TelegramLimiter:
    return TelegramLimiter(redis_client(url), prefix=prefix)


def limiter_get() -> TelegramLimiter | OpenLimiter:
    url = settings.REDIS_URL
    if not url:
        return OpenLimiter()
    return _limiter_for(url, settings.CACHES.get("default", {}).get("KEY_PREFIX", ""))


def slot_wait(limiter: TelegramLimiter | OpenLimiter, chat_id: int | str, *, is_group: bool, within: float) -> float:
    """Wait for a slot for at most `within` seconds: 0 once one is reserved, else the wait the
    limiter still asks for (the caller decides: give up, or send anyway)."""
    deadline = time.monotonic() + within
    while (wait := limiter.slot_reserve(chat_id, is_group=is_group)) > 0:
        if time.monotonic() + wait > deadline:
            return wait
        time.sleep(wait)
    return 0.0
