"""GET /api/v1/weather/{city}: the original lab's endpoint, through openweathermap.current_weather.
It spends the organization's API key, so it needs the permission to use integrations unless
WEATHER_API_PUBLIC makes it public."""

import pytest
from rest_framework.test import APIClient

from integrations.models import IntegrationRun
from tests.integrations.providers.fakes import credential_for, fixture, point_services_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def london(fake_services):
    credential_for("openweathermap")
    fake_services.expect_request("/data/2.5/weather").respond_with_json(
        fixture("openweathermap", "current_weather_london")
    )
    return fake_services


def test_first_from_the_api_then_from_the_cache(executor_client, london):
    first = executor_client.get("/api/v1/weather/London")
    second = executor_client.get("/api/v1/weather/london/")

    assert first.status_code == second.status_code == 200
    assert first.json() == {"city": "London", "temperature": 11.62, "description": "overcast clouds", "source": "api"}
    assert second.json() == {**first.json(), "source": "cache"}
    assert len(london.log) == 1
    assert IntegrationRun.objects.count() == 0  # a read-through endpoint, not a recorded run


def test_it_needs_a_user_by_default(london):
    response = APIClient().get("/api/v1/weather/London")

    assert response.status_code == 401
    assert london.log == []


def test_a_user_without_the_permission_to_use_integrations_is_refused_with_403(user_client, london):
    response = user_client.get("/api/v1/weather/London")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You need the 'execute integrations' permission (integrations.execute_integration)."
    }
    assert london.log == []  # no outbound call with the organization's key


def test_public_mode_serves_anyone_even_a_user_without_the_permission(user_client, london, settings):
    settings.WEATHER_API_PUBLIC = True

    assert user_client.get("/api/v1/weather/London").status_code == 200


def test_it_is_public_when_the_setting_says_so(london, settings):
    settings.WEATHER_API_PUBLIC = True

    response = APIClient().get("/api/v1/weather/London")

    assert response.status_code == 200
    assert response.json()["source"] == "api"


def test_an_unknown_city_is_404(executor_client, fake_services):
    credential_for("openweathermap")
    fake_services.expect_request("/data/2.5/weather").respond_with_json(
        fixture("openweathermap", "city_not_found"), status=404
    )

    response = executor_client.get("/api/v1/weather/Atlantis")

    assert response.status_code == 404
    assert response.json() == {"detail": "City not found."}


def test_a_blank_city_is_400(executor_client, fake_services):
    response = executor_client.get("/api/v1/weather/%20%20")

    assert response.status_code == 400
    assert list(response.json()) == ["city"]
    assert fake_services.log == []


def test_a_service_that_does_not_answer_is_504(executor_client, settings, silent_base_url, waits):
    credential_for("openweathermap")
    point_services_at(settings, silent_base_url)

    response = executor_client.get("/api/v1/weather/London")

    assert response.status_code == 504
    assert response.json() == {"detail": "openweathermap did not answer in time."}


def test_without_an_api_key_it_is_503_and_says_what_to_configure(executor_client, fake_services):
    response = executor_client.get("/api/v1/weather/London")

    assert response.status_code == 503
    assert "OPENWEATHERMAP_API_KEY" in response.json()["detail"]
