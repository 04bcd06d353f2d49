import json
import logging

import pytest
from rest_framework.test import APIClient

from integrations.models import Credential, Setting
from integrations.secrets import services
from integrations.secrets.selectors import credential_resolve
from integrations.secrets.services import credential_mark_needs_attention
from integrations.secrets.settings_store import setting_get
from tests.factories import OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/api/v1/integration-settings/"
CREDENTIALS_URL = "/api/v1/integration-credentials/"
BOT_TOKEN = "123456789:AAEhBP0av28Q-secret-bot-token-api"
API_KEY = "openweathermap-api-key-9876"


def client_for(*permissions: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(permissions=list(permissions)))
    return client


@pytest.fixture
def viewer():
    return client_for("integrations.view_setting", "integrations.view_credential")


@pytest.fixture
def editor():
    return client_for(
        "integrations.view_setting",
        "integrations.change_setting",
        "integrations.view_credential",
        "integrations.add_credential",
        "integrations.change_credential",
        "integrations.delete_credential",
    )


def by_key(response) -> dict:
    return {item["key"]: item for item in response.json()["results"]}


# ------------------------------------------------------------------------------- settings


def test_the_list_shows_every_declared_setting_before_any_value_is_stored(viewer):
    response = viewer.get(SETTINGS_URL, {"limit": 200})

    assert response.status_code == 200
    token = by_key(response)["TELEGRAM_BOT_TOKEN"]
    assert token == {
        "key": "TELEGRAM_BOT_TOKEN",
        "type": "secret",
        "description": "Telegram Bot API token from @BotFather.",
        "is_secret": True,
        "is_known": True,
        "value": None,
        "source": None,
        "error": None,
        "default": None,
        "updated_at": token["updated_at"],
        "updated_by": None,
    }


def test_a_secret_is_write_only_and_comes_back_masked(editor):
    response = editor.put(f"{SETTINGS_URL}TELEGRAM_BOT_TOKEN/", {"value": BOT_TOKEN}, format="json")

    assert response.status_code == 200
    assert BOT_TOKEN not in response.content.decode()
    assert response.json()["value"] == "••••••-api"
    assert response.json()["source"] == "database"
    listed = editor.get(SETTINGS_URL, {"limit": 200})
    retrieved = editor.get(f"{SETTINGS_URL}TELEGRAM_BOT_TOKEN/")
    for body in (listed.content.decode(), retrieved.content.decode()):
        assert BOT_TOKEN not in body
    assert setting_get("TELEGRAM_BOT_TOKEN") == BOT_TOKEN
    assert BOT_TOKEN not in str(Setting.objects.filter(key="TELEGRAM_BOT_TOKEN").values().get())


def test_a_value_is_validated_by_its_type(editor):
    services.setting_create(key="OPS_CHAT_ID", type="int", value=1)

    response = editor.patch(f"{SETTINGS_URL}OPS_CHAT_ID/", {"value": "one"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"value": ["OPS_CHAT_ID must be a whole number, got 'one'."]}
    assert setting_get("OPS_CHAT_ID") == 1


def test_typed_values_round_trip_as_json(editor):
    services.setting_create(key="OPS_CHAT_ID", type="int")
    services.setting_create(key="BRIDGE_OPTIONS", type="json")

    assert editor.put(f"{SETTINGS_URL}OPS_CHAT_ID/", {"value": -100123}, format="json").json()["value"] == -100123
    response = editor.put(f"{SETTINGS_URL}BRIDGE_OPTIONS/", {"value": {"greeting": "hi", "retries": 3}}, format="json")
    assert response.json()["value"] == {"greeting": "hi", "retries": 3}
    assert editor.put(f"{SETTINGS_URL}BRIDGE_OPTIONS/", {"value": "plain"}, format="json").json()["value"] == "plain"
    assert setting_get("BRIDGE_OPTIONS") == "plain"


def test_null_removes_the_stored_value_so_the_environment_applies(editor, monkeypatch):
    monkeypatch.setenv("WEBIM_ACCOUNT_URL", "https://env.webim.ru")
    editor.put(f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/", {"value": "https://db.webim.ru"}, format="json")

    response = editor.put(f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/", {"value": None}, format="json")

    assert response.status_code == 200
    assert (response.json()["value"], response.json()["source"]) == ("https://env.webim.ru", "environment")


def test_a_body_without_a_value_is_a_field_error(editor):
    response = editor.put(f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"value": ["This field is required."]}


def test_an_unknown_key_is_not_found(editor):
    assert editor.get(f"{SETTINGS_URL}NO_SUCH_KEY/").status_code == 404
    assert editor.put(f"{SETTINGS_URL}NO_SUCH_KEY/", {"value": "x"}, format="json").status_code == 404


def test_the_updater_is_recorded(editor):
    response = editor.put(f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/", {"value": "https://x.webim.ru"}, format="json")

    user = editor.handler._force_user
    assert response.json()["updated_by"] == user.username
    assert Setting.objects.get(key="WEBIM_ACCOUNT_URL").updated_by == user


def test_settings_can_be_filtered_and_searched(viewer):
    response = viewer.get(SETTINGS_URL, {"is_secret": "false", "search": "WEBIM"})

    assert [item["key"] for item in response.json()["results"]] == ["WEBIM_ACCOUNT_URL"]


@pytest.mark.parametrize(
    ("permissions", "method", "expected"),
    [
        ((), "get", 403),
        (("integrations.view_setting",), "get", 200),
        (("integrations.view_setting",), "put", 403),
        (("integrations.view_setting", "integrations.change_setting"), "put", 200),
    ],
)
def test_settings_need_the_model_permissions(permissions, method, expected):
    client = client_for(*permissions)
    url = f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/"

    response = getattr(client, method)(url, {"value": "https://x.webim.ru"}, format="json")

    assert response.status_code == expected


def test_anonymous_callers_are_refused(api_client):
    assert api_client.get(SETTINGS_URL).status_code in (401, 403)
    assert api_client.get(CREDENTIALS_URL).status_code in (401, 403)


def test_settings_cannot_be_created_or_deleted_through_the_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)

    assert client.post(SETTINGS_URL, {"key": "NEW", "value": 1}, format="json").status_code == 405
    assert client.delete(f"{SETTINGS_URL}WEBIM_ACCOUNT_URL/").status_code == 405


# ---------------------------------------------------------------------------- credentials


def test_a_credential_is_created_with_its_secret_write_only_and_masked(editor):
    owner = OwnerFactory(slug="acme")
    response = editor.post(
        CREDENTIALS_URL,
        {
            "provider": "openweathermap",
            "owner": "acme",
            "strategy": "api_key",
            "api_key_in": "query",
            "api_key_name": "appid",
            "secret": API_KEY,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert API_KEY not in response.content.decode()
    assert body["secret"] == "••••••9876"
    assert (body["provider"], body["owner"], body["strategy"], body["needs_attention"]) == (
        "openweathermap",
        "acme",
        "api_key",
        False,
    )
    assert credential_resolve(provider="openweathermap", owner=owner).secret == API_KEY
    for listed in (editor.get(CREDENTIALS_URL), editor.get(f"{CREDENTIALS_URL}{body['id']}/")):
        assert API_KEY not in listed.content.decode()


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"provider": "github", "strategy": "bearer"}, {"secret": ["Enter the secret (API key, token or password)."]}),
        (
            {"provider": "github", "strategy": "api_key", "api_key_in": "header", "secret": "x"},
            {"api_key_name": ["The API key name must be an HTTP header name (e.g. X-API-Key)."]},
        ),
        (
            {"provider": "GitHub!", "strategy": "bearer", "secret": "x"},
            {"provider": ["Use lower-case letters, digits, '.', '_' or '-'."]},
        ),
        ({"provider": "github", "strategy": "oauth", "secret": "x"}, {"strategy": ['"oauth" is not a valid choice.']}),
        (
            {"provider": "github", "strategy": "bearer", "secret": "x", "owner": "nobody"},
            {"owner": ["Object with slug=nobody does not exist."]},
        ),
    ],
)
def test_a_bad_credential_is_a_field_error(editor, payload, errors):
    response = editor.post(CREDENTIALS_URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Credential.objects.exists()


def test_a_second_global_credential_for_a_provider_is_refused(editor):
    payload = {"provider": "github", "strategy": "bearer", "secret": "ghp_one"}
    assert editor.post(CREDENTIALS_URL, payload, format="json").status_code == 201

    response = editor.post(CREDENTIALS_URL, payload, format="json")

    assert response.status_code == 400
    assert response.json() == {"provider": ["A credential for github already exists for everyone (global)."]}


def test_an_update_without_a_secret_keeps_it_and_a_new_secret_clears_the_flag(editor):
    credential = services.credential_create(provider="github", strategy="bearer", secret="ghp_old_token_value")
    credential_mark_needs_attention(credential, reason="HTTP 401 from api.github.com")
    url = f"{CREDENTIALS_URL}{credential.pk}/"

    response = editor.patch(url, {"name": "ops account"}, format="json")
    assert (response.status_code, response.json()["needs_attention"]) == (200, True)
    assert credential_resolve(provider="github").secret == "ghp_old_token_value"

    response = editor.patch(url, {"secret": "ghp_new_token_value"}, format="json")
    assert (response.status_code, response.json()["needs_attention"], response.json()["attention_reason"]) == (
        200,
        False,
        "",
    )
    assert "ghp_new_token_value" not in response.content.decode()
    assert credential_resolve(provider="github").secret == "ghp_new_token_value"


def test_credentials_can_be_filtered_by_the_needs_attention_flag_and_scope(viewer):
    flagged = services.credential_create(provider="github", strategy="bearer", secret="a")
    services.credential_create(provider="openweathermap", strategy="bearer", secret="b", owner=OwnerFactory())
    credential_mark_needs_attention(flagged, reason="HTTP 403")

    assert [c["id"] for c in viewer.get(CREDENTIALS_URL, {"needs_attention": "true"}).json()["results"]] == [flagged.pk]
    assert [c["provider"] for c in viewer.get(CREDENTIALS_URL, {"is_global": "true"}).json()["results"]] == ["github"]


def test_the_flag_can_be_cleared_through_the_api_with_the_change_permission(editor, viewer):
    credential = services.credential_create(provider="github", strategy="bearer", secret="a")
    credential_mark_needs_attention(credential, reason="HTTP 401")
    url = f"{CREDENTIALS_URL}{credential.pk}/clear-attention/"

    assert viewer.post(url).status_code == 403
    response = editor.post(url)

    assert (response.status_code, response.json()["needs_attention"]) == (200, False)


def test_a_credential_can_be_deleted(editor):
    credential = services.credential_create(provider="github", strategy="bearer", secret="a")

    assert editor.delete(f"{CREDENTIALS_URL}{credential.pk}/").status_code == 204
    assert credential_resolve(provider="github") is None


@pytest.mark.parametrize(
    ("permissions", "method", "expected"),
    [
        (("integrations.view_credential",), "get", 200),
        (("integrations.view_credential",), "post", 403),
        (("integrations.view_credential", "integrations.add_credential"), "post", 201),
        (("integrations.view_setting",), "get", 403),
    ],
)
def test_credentials_need_the_model_permissions(permissions, method, expected):
    client = client_for(*permissions)

    response = getattr(client, method)(
        CREDENTIALS_URL, {"provider": "github", "strategy": "bearer", "secret": "x"}, format="json"
    )

    assert response.status_code == expected


def test_secrets_sent_through_the_api_never_reach_the_logs(editor, caplog):
    caplog.set_level(logging.DEBUG)

    editor.put(f"{SETTINGS_URL}TELEGRAM_BOT_TOKEN/", {"value": BOT_TOKEN}, format="json")
    created = editor.post(
        CREDENTIALS_URL, {"provider": "github", "strategy": "bearer", "secret": API_KEY}, format="json"
    )
    editor.patch(f"{CREDENTIALS_URL}{created.json()['id']}/", {"secret": API_KEY + "-2"}, format="json")
    editor.post(CREDENTIALS_URL, {"provider": "github", "strategy": "bearer", "secret": API_KEY}, format="json")

    assert caplog.records  # the writes were logged...
    assert BOT_TOKEN not in caplog.text and API_KEY not in caplog.text  # ...without their secrets
    assert BOT_TOKEN not in json.dumps([str(r.__dict__) for r in caplog.records])


def test_the_endpoints_are_documented_under_the_integrations_tag(viewer):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path in ("/api/v1/integration-settings/", "/api/v1/integration-credentials/{id}/"):
        for operation in schema["paths"][path].values():
            assert operation["tags"] == ["integrations"]
    credential_input = schema["components"]["schemas"]["IntegrationCredentialInputRequest"]["properties"]["secret"]
    assert credential_input["writeOnly"] is True


def test_a_bearer_secret_that_cannot_travel_in_a_header_is_refused_with_400(editor):
    response = editor.post(
        CREDENTIALS_URL, {"provider": "github", "strategy": "bearer", "secret": "ünïcode-secret-value"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["secret"]
    assert not Credential.objects.exists()
