"""openweathermap.current_weather against a fake speaking OpenWeatherMap's wire format."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import Credential
from integrations.registry import registry
from tests.factories import OwnerFactory
from tests.integrations.providers.fakes import credential_for, fixture

pytestmark = pytest.mark.django_db

WEATHER = "/data/2.5/weather"


def weather(config=None, **kwargs):
    return registry.get("openweathermap.current_weather").execute(config or {"city": "London"}, **kwargs)


def test_city_to_temperature_and_description_with_the_key_from_the_settings(fake_services, monkeypatch):
    monkeypatch.setenv("OPENWEATHERMAP_API_KEY", "setting-key-0123456789")
    fake_services.expect_request(
        WEATHER,
        query_string={"q": "London", "units": "metric", "appid": "setting-key-0123456789"},
    ).respond_with_json(fixture("openweathermap", "current_weather_london"))

    result = weather()

    assert result.ok, result.error
    assert result.result == {
        "city": "London",
        "country": "GB",
        "temperature": 11.62,
        "feels_like": 10.93,
        "humidity": 81,
        "description": "overcast clouds",
        "units": "metric",
        "observed_at": "2023-11-14T22:13:20+00:00",
    }
    assert (result.source, result.stale) == ("api", False)


def test_the_owners_credential_goes_where_it_says(fake_services):
    owner = OwnerFactory()
    credential_for("openweathermap", secret="global-key-000000000")
    credential_for(
        "openweathermap", owner=owner, api_key_in="header", api_key_name="X-Api-Key", secret="owner-key-1111111111"
    )
    fake_services.expect_request(WEATHER, headers={"X-Api-Key": "owner-key-1111111111"}).respond_with_json(
        fixture("openweathermap", "current_weather_london")
    )

    assert weather({"city": "London", "units": "imperial", "lang": "uk"}, owner=owner).ok

    ((request, _),) = fake_services.log
    assert "appid" not in request.args
    assert (request.args["units"], request.args["lang"]) == ("imperial", "uk")


def test_the_answer_is_cached_for_every_caller(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request(WEATHER).respond_with_json(fixture("openweathermap", "current_weather_london"))

    first, second = weather(), weather({"city": "  london "})

    assert (first.source, second.source) == ("api", "cache")
    assert second.result == first.result
    assert len(fake_services.log) == 1


def test_a_cache_hit_resolves_no_credential(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request(WEATHER).respond_with_json(fixture("openweathermap", "current_weather_london"))
    weather()

    with CaptureQueriesContext(connection) as queries:
        hit = weather()

    assert (hit.ok, hit.source) == (True, "cache")
    assert [q["sql"] for q in queries] == []


def test_a_removed_key_stops_calls_not_the_cached_answer(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request(WEATHER).respond_with_json(fixture("openweathermap", "current_weather_london"))
    weather()
    Credential.objects.all().delete()

    assert weather().source == "cache"
    assert weather({"city": "Paris"}).error.code == "credentials_missing"
    assert len(fake_services.log) == 1


def test_city_not_found_uses_owms_string_code_and_is_not_found(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request(WEATHER).respond_with_json(fixture("openweathermap", "city_not_found"), status=404)

    result = weather({"city": "Atlantis"})

    assert (result.ok, result.error.code, result.error.message) == (False, "not_found", "City not found.")


def test_an_invalid_key_says_so_and_flags_the_credential(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request(WEATHER).respond_with_json(fixture("openweathermap", "invalid_api_key"), status=401)

    result = weather()

    assert result.error.code == "unauthorized"
    assert result.error.message.startswith("OpenWeatherMap: Invalid API key.")
    assert Credential.objects.get(provider="openweathermap").needs_attention


def test_without_a_key_nothing_is_called(fake_services):
    result = weather()

    assert result.error.code == "credentials_missing"
    assert "OPENWEATHERMAP_API_KEY" in result.error.message
    assert fake_services.log == []
