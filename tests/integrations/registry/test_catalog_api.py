"""GET /api/v1/integrations/: the catalog of integrations with their metadata and schemas, for users
with the permission to use integrations (integrations.execute_integration)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CATALOG = "/api/v1/integrations/"


def test_a_user_who_may_use_integrations_sees_every_integration_with_its_metadata_and_schema(executor_client):
    response = executor_client.get(CATALOG)

    assert response.status_code == 200
    by_id = {entry["id"]: entry for entry in response.json()}
    assert sorted(by_id) == [
        "exchangerate.latest",
        "github.repository",
        "openweathermap.current_weather",
        "telegram.send_message",
    ]
    telegram = by_id["telegram.send_message"]
    assert telegram == {
        "id": "telegram.send_message",
        "version": "1.0.0",
        "name": "Telegram: send a message",
        "description": telegram["description"],
        "category": "messaging",
        "config_schema": telegram["config_schema"],
        "secret_fields": [],
        "credentials": {
            "provider": "telegram",
            "strategy": "bearer",
            "required": True,
            "setting": "TELEGRAM_BOT_TOKEN",
        },
        "library": "python-telegram-bot 22.8",
        "side_effecting": True,
        "cache_ttl": None,
    }
    assert telegram["config_schema"]["required"] == ["chat_id", "text"]
    github = by_id["github.repository"]
    assert github["secret_fields"] == ["$.token"]
    assert github["config_schema"]["properties"]["token"]["x-secret"] is True
    assert by_id["openweathermap.current_weather"]["cache_ttl"] == 600


def test_the_catalog_can_be_narrowed_to_a_category(executor_client):
    response = executor_client.get(CATALOG, {"category": "weather"})

    assert [entry["id"] for entry in response.json()] == ["openweathermap.current_weather"]


def test_one_integration(executor_client):
    response = executor_client.get(f"{CATALOG}exchangerate.latest/")

    assert response.status_code == 200
    assert response.json()["config_schema"]["required"] == ["base"]


def test_an_unknown_integration_is_404(executor_client):
    response = executor_client.get(f"{CATALOG}nope.nothing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown integration 'nope.nothing'."}


@pytest.mark.parametrize("path", [CATALOG, f"{CATALOG}exchangerate.latest/"], ids=["catalog", "one"])
def test_a_user_without_the_permission_is_refused_with_403(user_client, path):
    response = user_client.get(path)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You need the 'execute integrations' permission (integrations.execute_integration)."
    }


@pytest.mark.parametrize("path", [CATALOG, f"{CATALOG}exchangerate.latest/"], ids=["catalog", "one"])
def test_anonymous_callers_are_asked_for_a_token(path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()
