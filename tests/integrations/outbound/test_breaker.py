"""The circuit breaker: opens after repeated failures, fails fast, lets one trial call through,
and shares its state between processes through Redis (in memory without Redis)."""

import pytest
import redis
from django.conf import settings as django_settings

from integrations.outbound import IntegrationNotFound, IntegrationServerError, IntegrationUnavailable, OutboundClient
from integrations.outbound.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    MemoryBreakerStore,
    RedisBreakerStore,
    get_store,
    redis_client,
)


def redis_store() -> RedisBreakerStore:
    """A store with its own connection, as another process would have."""
    return RedisBreakerStore(redis.Redis.from_url(django_settings.REDIS_URL), prefix="test")


@pytest.fixture(params=["redis", "memory"])
def store(request):
    return redis_store() if request.param == "redis" else MemoryBreakerStore()


@pytest.fixture
def client(clock, waits, store):
    return OutboundClient(sleep=waits.append, clock=clock, breaker_store=store)


@pytest.fixture
def failing(httpserver):
    httpserver.expect_request("/weather").respond_with_data("down", status=503)
    return httpserver.url_for("/weather")


def call(client, url):
    return client.request(integration="weather", operation="current", method="GET", url=url)


def fail_until_open(client, url):
    for _ in range(django_settings.INTEGRATIONS_BREAKER_FAIL_MAX):
        with pytest.raises(IntegrationServerError):
            call(client, url)


def test_the_circuit_opens_after_fail_max_calls_each_retried_call_counting_once(
    client, failing, httpserver, store, settings
):
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX - 1):
        with pytest.raises(IntegrationServerError):
            call(client, failing)
    assert store.states()["weather"] == CLOSED

    with pytest.raises(IntegrationServerError):
        call(client, failing)

    assert store.states()["weather"] == OPEN
    assert len(httpserver.log) == settings.INTEGRATIONS_BREAKER_FAIL_MAX * settings.INTEGRATIONS_RETRY_ATTEMPTS


def test_an_open_circuit_fails_fast_without_reaching_the_service(client, failing, httpserver, clock, settings):
    fail_until_open(client, failing)
    requests_so_far = len(httpserver.log)

    with pytest.raises(IntegrationUnavailable) as raised:
        call(client, failing)

    assert len(httpserver.log) == requests_so_far
    assert raised.value.status_code == 503 and raised.value.code == "circuit_open"
    assert raised.value.open_until == clock.now + settings.INTEGRATIONS_BREAKER_RESET_SECONDS
    assert raised.value.detail == "weather is failing; circuit open until 2027-01-15T08:00:30+00:00."


def test_after_the_reset_time_a_successful_trial_call_closes_the_circuit(
    client, failing, httpserver, clock, store, settings
):
    fail_until_open(client, failing)
    clock.advance(settings.INTEGRATIONS_BREAKER_RESET_SECONDS)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/weather").respond_with_json({"temp": 20})

    assert call(client, failing).data == {"temp": 20}

    assert store.states()["weather"] == CLOSED
    assert call(client, failing).ok


def test_a_failed_trial_opens_the_circuit_again_for_another_reset_period(
    client, failing, httpserver, clock, store, settings
):
    fail_until_open(client, failing)
    clock.advance(settings.INTEGRATIONS_BREAKER_RESET_SECONDS + 1)

    with pytest.raises(IntegrationServerError):
        call(client, failing)

    assert store.states()["weather"] == OPEN
    with pytest.raises(IntegrationUnavailable) as raised:
        call(client, failing)
    assert raised.value.open_until == clock.now + settings.INTEGRATIONS_BREAKER_RESET_SECONDS


def test_only_one_caller_gets_the_trial_until_its_lease_ends(store, clock):
    store.failure("weather", now=clock.now, fail_max=1, reset_seconds=30, trial=False)
    clock.advance(30)

    first = store.admit("weather", now=clock.now, lease=30)
    second = store.admit("weather", now=clock.now + 1, lease=30)
    after_lease = store.admit("weather", now=clock.now + 31, lease=30)

    assert (first.allowed, first.trial, first.transition) == (True, True, HALF_OPEN)
    assert (second.allowed, second.open_until) == (False, None)
    assert (after_lease.allowed, after_lease.trial) == (True, True)
    assert store.states()["weather"] == HALF_OPEN


def test_4xx_answers_are_not_failures_of_the_service(client, httpserver, store, settings):
    httpserver.expect_request("/weather").respond_with_json({"message": "city not found"}, status=404)

    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX + 2):
        with pytest.raises(IntegrationNotFound):
            call(client, httpserver.url_for("/weather"))

    assert store.states()["weather"] == CLOSED


def test_a_success_resets_the_count_of_consecutive_failures(client, httpserver, store, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX - 1):
        httpserver.expect_ordered_request("/weather").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/weather").respond_with_json({})
    url = httpserver.url_for("/weather")

    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX - 1):
        with pytest.raises(IntegrationServerError):
            call(client, url)
    call(client, url)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/weather").respond_with_data("", status=500)
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX - 1):
        with pytest.raises(IntegrationServerError):
            call(client, url)

    assert store.states()["weather"] == CLOSED


def test_breakers_of_different_integrations_are_independent(client, failing, httpserver, store):
    fail_until_open(client, failing)
    httpserver.expect_request("/rates").respond_with_json({"EUR": 1})

    result = client.request(integration="rates", operation="latest", method="GET", url=httpserver.url_for("/rates"))

    assert result.ok
    assert store.states() == {"weather": OPEN, "rates": CLOSED}


def test_the_state_is_shared_by_processes_through_redis(clock, waits, failing, httpserver):
    web_worker = OutboundClient(sleep=waits.append, clock=clock, breaker_store=redis_store())
    celery_worker = OutboundClient(sleep=waits.append, clock=clock, breaker_store=redis_store())

    fail_until_open(web_worker, failing)
    requests_so_far = len(httpserver.log)

    with pytest.raises(IntegrationUnavailable):
        call(celery_worker, failing)
    assert len(httpserver.log) == requests_so_far


def test_the_default_store_is_redis_and_memory_without_redis(settings):
    assert isinstance(get_store(), RedisBreakerStore)

    settings.REDIS_URL = ""

    assert isinstance(get_store(), MemoryBreakerStore)


def test_when_redis_is_down_the_breaker_lets_calls_through(clock, waits, httpserver, refused_url):
    down = RedisBreakerStore(
        redis_client(refused_url.replace("http://", "redis://").split("/weather")[0]), prefix="test"
    )
    client = OutboundClient(sleep=waits.append, clock=clock, breaker_store=down)
    httpserver.expect_request("/weather").respond_with_json({"temp": 1})

    assert call(client, httpserver.url_for("/weather")).ok
