"""Fixtures of the outbound layer's tests.

Third-party services are pytest-httpserver fakes (or bare local sockets for connection errors
and timeouts); Redis and the cache are the real ones. Waiting is injected: the client records
the waits it would sleep, so tests check backoff and Retry-After without sleeping.
"""

import pytest

from integrations.outbound import OutboundClient


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def outbound_settings(settings):
    settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS = 5
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 3
    settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS = 0.01
    settings.INTEGRATIONS_RETRY_MAX_WAIT_SECONDS = 10
    settings.INTEGRATIONS_BREAKER_FAIL_MAX = 3
    settings.INTEGRATIONS_BREAKER_RESET_SECONDS = 30
    settings.INTEGRATIONS_CACHE_NOT_FOUND_SECONDS = 60
    settings.INTEGRATIONS_CACHE_STALE_SECONDS = 3600
    return settings


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def waits():
    """Seconds the client waited between attempts, in order."""
    return []


@pytest.fixture
def client(clock, waits):
    async def asleep(seconds):
        waits.append(seconds)

    return OutboundClient(sleep=waits.append, asleep=asleep, clock=clock)


@pytest.fixture
def refused_url(refused_base_url):
    return f"{refused_base_url}/weather"


@pytest.fixture
def silent_url(silent_base_url):
    return f"{silent_base_url}/weather"
