"""TELEGRAM_API_URL: where every Bot API call goes — a settings-store value with the environment's
INTEGRATIONS_TELEGRAM_API_URL as its fallback — and only superusers may point it elsewhere, since
the bot token travels with every call."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import PermissionDenied
from integrations.models import Setting
from integrations.registry import registry
from integrations.secrets import services
from integrations.secrets.selectors import telegram_api_url
from tests.factories import UserFactory
from tests.fakes.telegram_bot_api import FakeTelegramBotAPI

pytestmark = pytest.mark.django_db

URL = "/api/v1/integration-settings/TELEGRAM_API_URL/"
EDITOR_PERMISSIONS = ["integrations.view_setting", "integrations.change_setting"]


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_unset_it_is_the_environments_url(settings):
    settings.INTEGRATIONS_TELEGRAM_API_URL = "https://bot-api.internal.example"

    assert telegram_api_url() == "https://bot-api.internal.example"


def test_a_stored_value_wins_over_the_environment(settings):
    settings.INTEGRATIONS_TELEGRAM_API_URL = "https://bot-api.internal.example"
    services.setting_set(key="TELEGRAM_API_URL", value="https://self-hosted.example")

    assert telegram_api_url() == "https://self-hosted.example"


def test_the_send_message_integration_calls_the_stored_url(settings):
    settings.INTEGRATIONS_TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens there
    with FakeTelegramBotAPI() as fake:
        services.setting_set(key="TELEGRAM_API_URL", value=fake.base_url)
        services.setting_set(key="TELEGRAM_BOT_TOKEN", value=fake.token)

        result = registry.get("telegram.send_message").execute({"chat_id": 42, "text": "hi"})

        assert result.ok
        assert [message["text"] for message in fake.messages_to(42)] == ["hi"]


class TestOnlySuperusersMayChangeIt:
    def test_a_user_who_may_change_settings_is_refused_403(self):
        response = api_client(UserFactory(permissions=EDITOR_PERMISSIONS)).put(
            URL, {"value": "https://attacker.example"}, format="json"
        )

        assert response.status_code == 403
        assert response.json() == {"detail": "Only a superuser may change TELEGRAM_API_URL."}
        assert not Setting.objects.get(key="TELEGRAM_API_URL").has_value

    def test_removing_the_value_is_allowed_to_them_the_environment_applies_again(self):
        services.setting_set(key="TELEGRAM_API_URL", value="https://self-hosted.example")

        response = api_client(UserFactory(permissions=EDITOR_PERMISSIONS)).put(URL, {"value": None}, format="json")

        assert response.status_code == 200
        assert response.json()["source"] != "database"

    def test_a_superuser_may(self):
        response = api_client(UserFactory(is_superuser=True, is_staff=True)).put(
            URL, {"value": "https://self-hosted.example"}, format="json"
        )

        assert response.status_code == 200
        assert telegram_api_url() == "https://self-hosted.example"

    def test_the_service_refuses_them_too(self):
        with pytest.raises(PermissionDenied):
            services.setting_set(
                key="TELEGRAM_API_URL",
                value="https://attacker.example",
                updated_by=UserFactory(permissions=EDITOR_PERMISSIONS),
            )

    def test_the_admin_shows_them_the_value_without_the_inputs_to_change_it(self):
        services.settings_sync_known()
        page = reverse("admin:integrations_setting_change", args=[Setting.objects.get(key="TELEGRAM_API_URL").pk])
        staff = Client()
        staff.force_login(UserFactory(is_staff=True, permissions=EDITOR_PERMISSIONS))
        superuser = Client()
        superuser.force_login(UserFactory(is_staff=True, is_superuser=True))

        assert 'name="value_input"' not in staff.get(page).content.decode()
        assert 'name="value_input"' in superuser.get(page).content.decode()
