import logging
import re

import pytest
from django.urls import reverse

from integrations.models import Credential, Setting
from integrations.registry import registry
from integrations.secrets import services, settings_store
from integrations.secrets.selectors import credential_resolve
from integrations.secrets.services import credential_mark_needs_attention
from integrations.secrets.settings_store import setting_get
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db

BOT_TOKEN = "123456789:AAEhBP0av28Q-secret-bot-token-adm"
API_KEY = "openweathermap-api-key-admin-5555"


def setting_url(key: str) -> str:
    services.settings_sync_known()
    return reverse("admin:integrations_setting_change", args=[Setting.objects.get(key=key).pk])


def credential_url(credential) -> str:
    return reverse("admin:integrations_credential_change", args=[credential.pk])


def field_labels(html: str) -> list[str]:
    """The labels of a change form's rows, read-only ones included, as a person reads them."""
    return [label.strip().rstrip(":") for label in re.findall(r"<label[^>]*>([^<]+)</label>", html)]


# ------------------------------------------------------------------------------- settings


def test_the_changelist_lists_declared_settings_before_any_value_is_stored(admin_client):
    Setting.objects.all().delete()

    response = admin_client.get(reverse("admin:integrations_setting_changelist"))

    assert response.status_code == 200
    for key in ("TELEGRAM_BOT_TOKEN", "WEBIM_ACCOUNT_URL", "GITHUB_TOKEN"):
        assert key in response.content.decode()


def test_a_secret_is_shown_masked_in_the_list_and_never_sent_back_in_the_form(admin_client):
    services.setting_set(key="TELEGRAM_BOT_TOKEN", value=BOT_TOKEN)

    listing = admin_client.get(reverse("admin:integrations_setting_changelist")).content.decode()
    form = admin_client.get(setting_url("TELEGRAM_BOT_TOKEN")).content.decode()

    assert "••••••-adm" in listing and "••••••-adm" in form
    assert BOT_TOKEN not in listing and BOT_TOKEN not in form
    assert 'type="password"' in form


def test_an_empty_secret_input_keeps_the_stored_secret(admin_client):
    services.setting_set(key="TELEGRAM_BOT_TOKEN", value=BOT_TOKEN)

    response = admin_client.post(setting_url("TELEGRAM_BOT_TOKEN"), {"value_input": "", "_save": "Save"})

    assert response.status_code == 302
    assert setting_get("TELEGRAM_BOT_TOKEN") == BOT_TOKEN


def test_a_new_secret_entered_in_the_admin_is_stored_encrypted(admin_client, caplog):
    caplog.set_level(logging.DEBUG)

    response = admin_client.post(setting_url("TELEGRAM_BOT_TOKEN"), {"value_input": BOT_TOKEN, "_save": "Save"})

    assert response.status_code == 302
    assert setting_get("TELEGRAM_BOT_TOKEN") == BOT_TOKEN
    assert BOT_TOKEN not in str(Setting.objects.filter(key="TELEGRAM_BOT_TOKEN").values().get())
    assert BOT_TOKEN not in caplog.text


def test_the_clear_option_removes_a_stored_secret(admin_client):
    services.setting_set(key="TELEGRAM_BOT_TOKEN", value=BOT_TOKEN)

    admin_client.post(setting_url("TELEGRAM_BOT_TOKEN"), {"value_input": "", "clear_value": "on", "_save": "Save"})

    assert not Setting.objects.get(key="TELEGRAM_BOT_TOKEN").has_value
    assert setting_get("TELEGRAM_BOT_TOKEN") is None


def test_a_value_of_the_wrong_type_is_a_form_error_and_nothing_is_saved(admin_client):
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)

    response = admin_client.post(setting_url("OPS_CHAT_ID"), {"value_input": "one", "description": "", "_save": "Save"})

    assert response.status_code == 200
    assert "OPS_CHAT_ID must be a whole number, got &#x27;one&#x27;." in response.content.decode()
    assert setting_get("OPS_CHAT_ID") == 1


def test_a_non_secret_value_is_edited_in_clear(admin_client):
    services.setting_set(key="WEBIM_ACCOUNT_URL", value="https://old.webim.ru")
    url = setting_url("WEBIM_ACCOUNT_URL")

    assert 'value="https://old.webim.ru"' in admin_client.get(url).content.decode()
    admin_client.post(url, {"value_input": "https://new.webim.ru", "_save": "Save"})

    assert setting_get("WEBIM_ACCOUNT_URL") == "https://new.webim.ru"
    assert Setting.objects.get(key="WEBIM_ACCOUNT_URL").updated_by.is_superuser


@pytest.mark.parametrize("key", ["WEBIM_ACCOUNT_URL", "TELEGRAM_BOT_TOKEN"])
def test_a_settings_page_tells_the_current_value_from_the_new_one(admin_client, key):
    services.setting_set(key=key, value="https://old.webim.ru" if key == "WEBIM_ACCOUNT_URL" else BOT_TOKEN)

    labels = field_labels(admin_client.get(setting_url(key)).content.decode())

    assert "Current value" in labels and "New value" in labels
    assert "Value" not in labels
    assert len(labels) == len(set(labels)), labels  # no two fields share a label


def test_a_setting_not_declared_in_code_can_be_added(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_setting_add"),
        {
            "key": "OPS_CHAT_ID",
            "type": "int",
            "description": "Telegram chat of the ops team",
            "value_input": "-100123",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert setting_get("OPS_CHAT_ID") == -100123


def test_a_declared_setting_cannot_be_added_twice(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_setting_add"),
        {
            "key": "GITHUB_TOKEN",
            "type": "secret",
            "value_input": "x",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "GITHUB_TOKEN is declared in code and already listed" in response.content.decode()


def test_the_action_removes_stored_values(admin_client, monkeypatch):
    monkeypatch.setenv("WEBIM_ACCOUNT_URL", "https://env.webim.ru")
    services.setting_set(key="WEBIM_ACCOUNT_URL", value="https://db.webim.ru")
    setting = Setting.objects.get(key="WEBIM_ACCOUNT_URL")

    admin_client.post(
        reverse("admin:integrations_setting_changelist"),
        {
            "action": "remove_stored_values",
            "_selected_action": [setting.pk],
        },
    )

    assert setting_get("WEBIM_ACCOUNT_URL") == "https://env.webim.ru"


def test_a_change_in_the_admin_reaches_another_process_at_its_next_check(
    admin_client, django_capture_on_commit_callbacks
):
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)
    now = [0.0]
    other = settings_store.SettingsStore(refresh_seconds=2.0, clock=lambda: now[0])
    assert other.get("OPS_CHAT_ID") == 1

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(setting_url("OPS_CHAT_ID"), {"value_input": "2", "description": "", "_save": "Save"})
    assert other.get("OPS_CHAT_ID") == 1  # trusts its copy until its next check
    now[0] += 2.0

    assert other.get("OPS_CHAT_ID") == 2


# ---------------------------------------------------------------------------- credentials


def test_credentials_are_listed_masked_with_the_needs_attention_column_and_filter(admin_client):
    flagged = services.credential_create(provider="github", strategy="bearer", secret=API_KEY)
    services.credential_create(provider="openweathermap", strategy="bearer", secret="other-secret-value-1111")
    credential_mark_needs_attention(flagged, reason="HTTP 401 from api.github.com")
    url = reverse("admin:integrations_credential_changelist")

    listing = admin_client.get(url).content.decode()
    only_flagged = admin_client.get(url, {"needs_attention__exact": "1"})

    assert "••••••5555" in listing and API_KEY not in listing
    assert "HTTP 401 from api.github.com" in listing
    assert list(only_flagged.context["cl"].result_list) == [flagged]


def test_the_action_clears_the_needs_attention_flag(admin_client):
    credential = services.credential_create(provider="github", strategy="bearer", secret=API_KEY)
    credential_mark_needs_attention(credential, reason="HTTP 403")

    admin_client.post(
        reverse("admin:integrations_credential_changelist"),
        {
            "action": "clear_attention",
            "_selected_action": [credential.pk],
        },
    )

    credential.refresh_from_db()
    assert not credential.needs_attention


def test_a_credential_is_added_in_the_admin_with_its_secret_encrypted(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    owner = OwnerFactory()

    response = admin_client.post(
        reverse("admin:integrations_credential_add"),
        {
            "provider": "openweathermap",
            "owner": owner.pk,
            "strategy": "api_key",
            "api_key_in": "query",
            "api_key_name": "appid",
            "secret": API_KEY,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert credential_resolve(provider="openweathermap", owner=owner).secret == API_KEY
    assert API_KEY not in Credential.objects.get().secret_encrypted
    assert API_KEY not in caplog.text


def test_a_credential_without_a_secret_or_with_missing_strategy_fields_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_credential_add"),
        {
            "provider": "openweathermap",
            "strategy": "api_key",
            "api_key_in": "header",
            "api_key_name": "",
            "_save": "Save",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the secret." in page and "The API key name must be an HTTP header name" in page
    assert not Credential.objects.exists()


def test_editing_a_credential_never_shows_its_secret_and_an_empty_input_keeps_it(admin_client):
    credential = services.credential_create(provider="github", strategy="bearer", secret=API_KEY)
    credential_mark_needs_attention(credential, reason="HTTP 401")
    url = credential_url(credential)

    page = admin_client.get(url).content.decode()
    assert API_KEY not in page and "••••••5555" in page

    fields = {"provider": "github", "strategy": "bearer", "name": "ops", "_save": "Save"}
    assert admin_client.post(url, {**fields, "secret": ""}).status_code == 302
    credential.refresh_from_db()
    assert credential.needs_attention and credential_resolve(provider="github").secret == API_KEY

    admin_client.post(url, {**fields, "secret": "ghp_brand_new_token"})
    credential.refresh_from_db()
    assert not credential.needs_attention and credential_resolve(provider="github").secret == "ghp_brand_new_token"


def test_a_second_global_credential_is_a_form_error(admin_client):
    services.credential_create(provider="github", strategy="bearer", secret=API_KEY)

    response = admin_client.post(
        reverse("admin:integrations_credential_add"),
        {
            "provider": "github",
            "strategy": "bearer",
            "secret": "another",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert "There is already a global credential for this provider." in response.content.decode()
    assert Credential.objects.count() == 1


def offered_providers(html: str) -> list[str]:
    [select] = re.findall(r'<select name="provider"[^>]*>(.*?)</select>', html, flags=re.S)
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


def test_a_credentials_provider_is_chosen_from_the_registered_integrations(admin_client):
    declared = sorted({i.metadata.credentials_provider for i in registry.all()} - {None})

    page = admin_client.get(reverse("admin:integrations_credential_add")).content.decode()

    assert offered_providers(page) == declared
    assert {"github", "openweathermap", "telegram"} <= set(declared)
    assert "openweathermap — OpenWeatherMap: current weather" in page


def test_a_provider_no_integration_declares_is_refused(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_credential_add"),
        {"provider": "openweathermapp", "strategy": "bearer", "secret": API_KEY, "_save": "Save"},
    )

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Credential.objects.exists()


def test_a_stored_provider_no_integration_declares_stays_selected_and_saves(admin_client):
    credential = services.credential_create(provider="legacy-sms", strategy="bearer", secret=API_KEY)
    url = credential_url(credential)

    page = admin_client.get(url).content.decode()
    response = admin_client.post(url, {"provider": "legacy-sms", "strategy": "bearer", "name": "old", "_save": "Save"})

    assert "legacy-sms" in offered_providers(page)
    assert '<option value="legacy-sms" selected>' in page
    assert response.status_code == 302
    credential.refresh_from_db()
    assert (credential.provider, credential.name) == ("legacy-sms", "old")
