"""The shared limiter: two clients of their own stand for two worker processes; the clock is
Redis's, so the tests read what the script answers, not the local time."""

import socket
import time

import pytest
import redis
from django.conf import settings

from bots.telegram.ratelimit import UNAVAILABLE_WAIT_SECONDS, TelegramLimiter
from integrations.outbound.breaker import redis_client


def two_processes() -> tuple[TelegramLimiter, TelegramLimiter]:
    return (
        TelegramLimiter(redis.Redis.from_url(settings.REDIS_URL), prefix="ratelimit-test"),
        TelegramLimiter(redis.Redis.from_url(settings.REDIS_URL), prefix="ratelimit-test"),
    )


def test_a_chat_gets_a_short_burst_then_one_slot_per_interval_whoever_asks():
    first, second = two_processes()

    assert first.slot_reserve(42, is_group=False) == 0
    assert second.slot_reserve(42, is_group=False) == 0  # the burst of two
    wait = first.slot_reserve(42, is_group=False)
    assert 1.0 < wait <= settings.TELEGRAM_CHAT_INTERVAL_SECONDS
    assert second.slot_reserve(42, is_group=False) == pytest.approx(wait, abs=0.05)
    assert first.slot_reserve(43, is_group=False) == 0  # another chat is not held up


def test_a_refused_slot_is_not_counted(settings):
    settings.TELEGRAM_CHAT_INTERVAL_SECONDS = 0.2
    first, _ = two_processes()
    first.slot_reserve(42, is_group=False)
    first.slot_reserve(42, is_group=False)
    for _ in range(20):
        assert first.slot_reserve(42, is_group=False) > 0

    time.sleep(0.21)
    assert first.slot_reserve(42, is_group=False) == 0


def test_a_group_gets_at_most_its_per_minute_share(settings):
    settings.TELEGRAM_CHAT_BURST = 100  # only the group window counts here
    first, second = two_processes()

    granted = [limiter.slot_reserve(-100, is_group=True) for limiter in (first, second) * 10]

    assert granted[: settings.TELEGRAM_GROUP_PER_MINUTE] == [0] * settings.TELEGRAM_GROUP_PER_MINUTE
    assert all(59 < wait <= 60 for wait in granted[settings.TELEGRAM_GROUP_PER_MINUTE :])
    assert first.slot_reserve(100, is_group=False) == 0  # a private chat is no group


def test_the_bot_sends_at_most_its_per_second_share_over_all_chats():
    first, second = two_processes()

    answers = [(first, second)[n % 2].slot_reserve(1000 + n, is_group=False) for n in range(40)]

    assert answers.count(0) == settings.TELEGRAM_BOT_PER_SECOND
    assert all(0 < wait <= 1 for wait in answers[settings.TELEGRAM_BOT_PER_SECOND :])


def test_a_429_holds_the_chat_and_the_whole_bot_for_exactly_retry_after():
    first, second = two_processes()

    first.cooldown_set(42, seconds=7)

    assert 6.9 < second.slot_reserve(42, is_group=False) <= 7
    assert 6.9 < second.slot_reserve(43, is_group=False) <= 7
    second.cooldown_set(42, seconds=2)  # a shorter one does not shorten it
    assert 6.9 < first.slot_reserve(42, is_group=False) <= 7


def test_without_redis_nothing_is_sent_and_the_sender_waits():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    limiter = TelegramLimiter(redis_client(f"redis://127.0.0.1:{port}/0"), prefix="x")  # as in production

    assert limiter.slot_reserve(42, is_group=False) == UNAVAILABLE_WAIT_SECONDS
    limiter.cooldown_set(42, seconds=3)  # logged, not raised
