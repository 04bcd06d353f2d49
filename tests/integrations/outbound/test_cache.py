"""The cache of idempotent reads: hits, stale answers while the service fails, brief "not found"
answers, and clearing — in the real Redis."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django_redis import get_redis_connection
from prometheus_client import REGISTRY
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.test import APIClient

from integrations.outbound import IntegrationNotFound, IntegrationUnavailable, outbound_cache_clear
from integrations.outbound.breaker import Admission
from tests.factories import UserFactory


def weather(client, url, city="Berlin", **kwargs):
    return client.request(
        integration="weather",
        operation="current",
        method="GET",
        url=url,
        params={"q": city, "appid": "SECRET-APPID"},
        cache_ttl=60,
        **kwargs,
    )


def lookups(result: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "switchboard_outbound_cache_lookups_total",
            {"integration": "weather", "operation": "current", "result": result},
        )
        or 0.0
    )


@pytest.fixture
def weather_url(httpserver):
    httpserver.expect_request("/weather").respond_with_json({"temp": 5})
    return httpserver.url_for("/weather")


def open_breaker(client, integration, settings):
    breaker = client.breaker(integration)
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX):
        breaker.record_failure(Admission(allowed=True))


def test_a_second_read_is_served_from_the_cache_without_reaching_the_service(client, weather_url, httpserver):
    hits, misses = lookups("hit"), lookups("miss")

    first = weather(client, weather_url)
    second = weather(client, weather_url)

    assert (first.source, second.source) == ("api", "cache")
    assert second.data == first.data == {"temp": 5}
    assert (second.stale, second.attempts, second.status) == (False, 0, 200)
    assert second.fetched_at == first.fetched_at
    assert len(httpserver.log) == 1
    assert (lookups("hit") - hits, lookups("miss") - misses) == (1, 1)


def test_cached_answers_a_fresh_entry_without_a_call_and_a_miss_with_none(client, weather_url, httpserver, clock):
    parts = ["Berlin"]
    hits, misses = lookups("hit"), lookups("miss")

    before = client.cached(integration="weather", operation="current", cache_key_parts=parts)
    weather(client, weather_url, cache_key_parts=parts)
    hit = client.cached(integration="weather", operation="current", cache_key_parts=parts)
    clock.advance(61)
    expired = client.cached(integration="weather", operation="current", cache_key_parts=parts)

    assert before is None and expired is None
    assert (hit.source, hit.stale, hit.data) == ("cache", False, {"temp": 5})
    assert len(httpserver.log) == 1
    # The miss is counted by the request that follows it, not twice.
    assert (lookups("hit") - hits, lookups("miss") - misses) == (1, 1)


def test_cached_raises_for_a_cached_not_found_like_request(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"message": "city not found"}, status=404)
    with pytest.raises(IntegrationNotFound):
        weather(client, httpserver.url_for("/weather"), cache_key_parts=["Atlantis"])

    with pytest.raises(IntegrationNotFound):
        client.cached(integration="weather", operation="current", cache_key_parts=["Atlantis"])


def test_different_reads_are_different_entries(client, weather_url, httpserver):
    weather(client, weather_url, city="Berlin")
    weather(client, weather_url, city="Kyiv")
    weather(client, weather_url, city="Kyiv")

    assert len(httpserver.log) == 2


def test_an_entry_expires_after_its_ttl(client, weather_url, httpserver, clock):
    weather(client, weather_url)
    clock.advance(61)

    assert weather(client, weather_url).source == "api"
    assert len(httpserver.log) == 2


def test_no_secret_appears_in_cache_keys(client, weather_url):
    weather(client, weather_url)

    keys = [key.decode() for key in get_redis_connection("default").keys("*")]
    assert any("outbound:weather:current:" in key for key in keys)
    assert not any("SECRET" in key or "Berlin" in key for key in keys)


def test_while_the_circuit_is_open_the_last_answer_is_served_marked_stale(
    client, weather_url, httpserver, clock, settings
):
    weather(client, weather_url)
    clock.advance(61)
    open_breaker(client, "weather", settings)
    stale_before = lookups("stale")

    result = weather(client, weather_url)

    assert (result.source, result.stale, result.data) == ("cache", True, {"temp": 5})
    assert len(httpserver.log) == 1
    assert lookups("stale") - stale_before == 1


def test_without_a_cached_answer_an_open_circuit_raises(client, weather_url, settings):
    open_breaker(client, "weather", settings)

    with pytest.raises(IntegrationUnavailable):
        weather(client, weather_url)


def test_when_the_call_fails_after_retries_the_last_answer_is_served_marked_stale(client, httpserver, clock, settings):
    httpserver.expect_ordered_request("/weather").respond_with_json({"temp": 5})
    url = httpserver.url_for("/weather")
    weather(client, url)
    clock.advance(61)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/weather").respond_with_data("down", status=502)

    result = weather(client, url)

    assert (result.source, result.stale, result.data) == ("cache", True, {"temp": 5})
    assert result.attempts == settings.INTEGRATIONS_RETRY_ATTEMPTS


def test_stale_answers_are_kept_only_for_the_stale_window(client, weather_url, clock, settings):
    weather(client, weather_url)
    open_breaker(client, "weather", settings)
    keys = get_redis_connection("default").keys("*outbound:weather:current:*")

    (ttl,) = [get_redis_connection("default").ttl(key) for key in keys]

    assert 60 < ttl <= 60 + settings.INTEGRATIONS_CACHE_STALE_SECONDS


def test_a_not_found_answer_is_cached_briefly(client, httpserver, clock, settings):
    httpserver.expect_request("/weather").respond_with_json({"message": "city not found"}, status=404)
    url = httpserver.url_for("/weather")

    with pytest.raises(IntegrationNotFound) as first:
        weather(client, url, city="Atlantis", not_found_ttl=10)
    with pytest.raises(IntegrationNotFound) as second:
        weather(client, url, city="Atlantis", not_found_ttl=10)
    assert (first.value.source, second.value.source) == ("api", "cache")
    assert second.value.body == {"message": "city not found"}
    assert len(httpserver.log) == 1

    clock.advance(11)
    with pytest.raises(IntegrationNotFound):
        weather(client, url, city="Atlantis", not_found_ttl=10)
    assert len(httpserver.log) == 2


def test_a_not_found_answer_is_never_served_as_stale(client, httpserver, clock, settings):
    httpserver.expect_request("/weather").respond_with_json({}, status=404)
    url = httpserver.url_for("/weather")
    with pytest.raises(IntegrationNotFound):
        weather(client, url)
    clock.advance(settings.INTEGRATIONS_CACHE_NOT_FOUND_SECONDS + 1)
    open_breaker(client, "weather", settings)

    with pytest.raises(IntegrationUnavailable):
        weather(client, url)


def test_clearing_an_integration_forgets_its_answers_only(client, httpserver):
    httpserver.expect_request("/weather").respond_with_json({"temp": 5})
    httpserver.expect_request("/rates").respond_with_json({"EUR": 1})

    def rates():
        return client.request(
            integration="rates", operation="latest", method="GET", url=httpserver.url_for("/rates"), cache_ttl=60
        )

    weather(client, httpserver.url_for("/weather"))
    rates()

    outbound_cache_clear(integration="weather")

    assert weather(client, httpserver.url_for("/weather")).source == "api"
    assert rates().source == "cache"

    outbound_cache_clear()

    assert weather(client, httpserver.url_for("/weather")).source == "api"
    assert rates().source == "api"
    assert weather(client, httpserver.url_for("/weather")).source == "cache"


def test_when_the_cache_is_down_calls_still_work(client, weather_url, settings, refused_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": refused_url.replace("http://", "redis://").split("/weather")[0],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)}},
        }
    }

    assert weather(client, weather_url).source == "api"
    assert weather(client, weather_url).source == "api"


def test_entries_of_another_format_are_ignored(client, weather_url):
    weather(client, weather_url)
    for key in get_redis_connection("default").keys("*outbound:weather:current:*"):
        cache.set(key.decode().split(":", 2)[2], {"not": "an entry"})

    assert weather(client, weather_url).source == "api"


# ------------------------------------------------------------------------------ the endpoint


@pytest.fixture
def clear_permission(db):
    content_type, _ = ContentType.objects.get_or_create(app_label="integrations", model="outboundcache")
    permission, _ = Permission.objects.get_or_create(
        codename="clear_outbound_cache",
        content_type__app_label="integrations",
        defaults={"name": "Can clear cached integration answers", "content_type": content_type},
    )
    return permission


def api_as(**user_kwargs) -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory(**user_kwargs))
    return api


pytestmark_urls = pytest.mark.urls("tests.integrations.outbound.urls")


@pytestmark_urls
def test_staff_with_the_permission_clear_an_integrations_cache_through_the_api(
    client, weather_url, httpserver, clear_permission
):
    weather(client, weather_url)
    api = api_as(is_staff=True, permissions=["integrations.clear_outbound_cache"])

    response = api.post("/api/v1/integrations/weather/cache/clear/")

    assert response.status_code == 200
    assert response.json() == {"integration": "weather", "cleared": True}
    assert weather(client, weather_url).source == "api"


@pytestmark_urls
def test_the_api_clears_every_integration_at_once(client, weather_url, clear_permission):
    weather(client, weather_url)

    response = api_as(is_superuser=True, is_staff=True).post("/api/v1/integrations/cache/clear/")

    assert response.json() == {"integration": None, "cleared": True}
    assert weather(client, weather_url).source == "api"


@pytestmark_urls
@pytest.mark.parametrize(
    ("user_kwargs", "status"),
    [
        ({"is_staff": True}, 403),
        ({"is_staff": False, "permissions": ["integrations.clear_outbound_cache"]}, 403),
    ],
)
def test_clearing_needs_staff_status_and_the_permission(client, weather_url, clear_permission, user_kwargs, status):
    weather(client, weather_url)

    response = api_as(**user_kwargs).post("/api/v1/integrations/weather/cache/clear/")

    assert response.status_code == status
    assert "clear outbound cache" in response.json()["detail"]
    assert weather(client, weather_url).source == "cache"


@pytestmark_urls
def test_anonymous_callers_cannot_clear(db):
    response = APIClient().post("/api/v1/integrations/weather/cache/clear/")

    assert response.status_code == 401


@pytestmark_urls
def test_a_malformed_integration_id_is_a_clear_400(clear_permission):
    api = api_as(is_staff=True, permissions=["integrations.clear_outbound_cache"])

    response = api.post("/api/v1/integrations/Not%20An%20Id/cache/clear/")

    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid integration id."}


@pytestmark_urls
def test_a_catalog_id_clears_the_cache_of_its_service(client, weather_url, clear_permission):
    weather(client, weather_url)
    api = api_as(is_staff=True, permissions=["integrations.clear_outbound_cache"])

    response = api.post("/api/v1/integrations/weather.current/cache/clear/")

    assert response.json() == {"integration": "weather", "cleared": True}
    assert weather(client, weather_url).source == "api"


def test_the_runs_admin_clears_the_cache_of_the_selected_runs_services(client, weather_url, admin_client):
    from integrations.models import IntegrationRun

    weather(client, weather_url)
    assert weather(client, weather_url).source == "cache"
    run = IntegrationRun.objects.create(integration_id="weather.current", integration_version="1.0.0", trigger="api")

    response = admin_client.post(
        "/admin/integrations/integrationrun/",
        {"action": "clear_cached_answers", "_selected_action": [str(run.pk)]},
        follow=True,
    )

    assert "Cleared the cached answers of: weather." in response.content.decode()
    assert weather(client, weather_url).source == "api"
