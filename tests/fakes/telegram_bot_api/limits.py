"""Telegram's flood limits, as the fake enforces them.

Telegram does not publish exact numbers; its FAQ says: about one message a second to one chat
(short bursts are tolerated), at most 20 messages a minute to one group, about 30 messages a
second overall. Exceed one and the answer is 429 `Too Many Requests: retry after N`, and the chat
stays locked until those N seconds are over, even for requests that would otherwise fit.
"""

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What the fake allows for sendMessage and editMessageText. `None` turns one limit off;
    the windows are configurable so that tests can use short ones."""

    per_chat_per_second: float | None = 1.0  # token bucket per chat: refill rate ...
    per_chat_burst: int = 3  # ... and capacity
    group_per_minute: int | None = 20  # rolling window, chats with a negative id
    group_window_seconds: float = 60.0
    overall_per_second: int | None = 30  # rolling window over every chat
    overall_window_seconds: float = 1.0

    @classmethod
    def off(cls) -> "Limits":
        return cls(per_chat_per_second=None, group_per_minute=None, overall_per_second=None)


def _window_wait(window: deque, limit: int, seconds: float, now: float) -> float:
    """Seconds until one more event fits in the rolling window (0 if it fits now)."""
    while window and window[0] <= now - seconds:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return window[len(window) - limit] + seconds - now


class RateLimiter:
    """Decides whether a message to `chat_id` may be delivered at `now` (seconds, monotonic).
    Not thread-safe: the fake calls it under its lock."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._buckets: dict[object, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._groups: dict[object, deque] = {}
        self._overall: deque = deque()
        self._cooldown: dict[object, float] = {}  # chat -> locked until

    def acquire(self, chat_id, now: float) -> int:
        """0 if the message may go (and it is counted), else the `retry_after` to answer."""
        until = self._cooldown.get(chat_id, 0.0)
        if now < until:
            return max(1, math.ceil(until - now - 1e-9))
        limits, waits = self.limits, [0.0]
        tokens = None
        if limits.per_chat_per_second:
            tokens, at = self._buckets.get(chat_id, (float(limits.per_chat_burst), now))
            tokens = min(float(limits.per_chat_burst), tokens + (now - at) * limits.per_chat_per_second)
            waits.append(max(0.0, (1.0 - tokens) / limits.per_chat_per_second))
        group = self._groups.setdefault(chat_id, deque()) if _is_group(chat_id) else None
        if group is not None and limits.group_per_minute:
            waits.append(_window_wait(group, limits.group_per_minute, limits.group_window_seconds, now))
        if limits.overall_per_second:
            waits.append(_window_wait(self._overall, limits.overall_per_second, limits.overall_window_seconds, now))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait - 1e-9))
            self._cooldown[chat_id] = now + retry_after
            return retry_after
        if tokens is not None:
            self._buckets[chat_id] = (tokens - 1.0, now)
        if group is not None:
            group.append(now)
        self._overall.append(now)
        return 0


def _is_group(chat_id) -> bool:
    return isinstance(chat_id, int) and chat_id < 0


def max_in_window(times: list[float], seconds: float = 1.0) -> int:
    """The most events in any window of `seconds` (half-open: [t, t + seconds)) of sorted times."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
