"""telegram.send_message against a fake Bot API speaking Telegram's wire format."""

import json
import logging

import pytest

from integrations.models import Credential
from integrations.registry import registry
from tests.factories import OwnerFactory
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture

pytestmark = pytest.mark.django_db

TEXT = "Device 0a1b2c3d4e5f6071 registered in Kyiv"
SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"


def send(config=None, **kwargs):
    return registry.get("telegram.send_message").execute(config or {"chat_id": -1001234567890, "text": TEXT}, **kwargs)


def test_sends_the_message_once_and_returns_its_id_without_the_text(fake_services, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    fake_services.expect_oneshot_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    result = send({"chat_id": -1001234567890, "text": TEXT, "disable_notification": True})

    assert result.ok, result.error
    assert result.result == {"message_id": 4711, "chat_id": -1001234567890, "date": "2023-11-14T22:13:20+00:00"}
    assert TEXT not in json.dumps(result.as_dict())
    ((request, _),) = fake_services.log
    assert request.form["chat_id"] == "-1001234567890"
    assert request.form["text"] == TEXT
    assert request.form["disable_notification"] == "true"


def test_a_chat_username_and_a_numeric_string_are_both_accepted(fake_services, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    assert send({"chat_id": "@switchboard_ops", "text": TEXT}).ok
    assert send({"chat_id": "-1001234567890", "text": TEXT}).ok

    assert [request.form["chat_id"] for request, _ in fake_services.log] == ["@switchboard_ops", "-1001234567890"]


def test_a_stored_credential_wins_over_the_setting_and_an_owners_over_the_global_one(fake_services, monkeypatch):
    owner = OwnerFactory()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1111111111:AAFromTheSettingNotToBeUsed_000000000")
    credential_for("telegram", secret="2222222222:AAGlobalCredentialToken_00000000000")
    credential_for("telegram", owner=owner)
    fake_services.expect_request(f"/bot{TELEGRAM_TOKEN}/sendMessage", method="POST").respond_with_json(
        fixture("telegram", "send_message_ok")
    )
    fake_services.expect_request(
        "/bot2222222222:AAGlobalCredentialToken_00000000000/sendMessage", method="POST"
    ).respond_with_json(fixture("telegram", "send_message_ok"))

    assert send(owner=owner).ok
    assert send(owner=OwnerFactory()).ok

    paths = [request.path for request, _ in fake_services.log]
    assert paths == [SEND, "/bot2222222222:AAGlobalCredentialToken_00000000000/sendMessage"]


def test_chat_not_found_is_a_client_error_with_telegrams_description(fake_services):
    credential_for("telegram")
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "chat_not_found"), status=400
    )

    result = send()

    assert (result.ok, result.error.code) == (False, "client_error")
    assert "chat not found" in result.error.message.lower()
    assert not Credential.objects.get(provider="telegram").needs_attention


def test_a_blocked_bot_is_forbidden_but_the_token_is_fine(fake_services):
    credential_for("telegram")
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "bot_blocked"), status=403)

    result = send()

    assert result.error.code == "forbidden"
    assert "blocked" in result.error.message
    assert not Credential.objects.get(provider="telegram").needs_attention


def test_telegrams_retry_after_in_the_body_is_honoured(fake_services, waits):
    credential_for("telegram")
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "too_many_requests"), status=429
    )
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    result = send()

    assert result.ok
    assert waits == [7]  # parameters.retry_after; the fake sent no Retry-After header


def test_without_a_token_nothing_is_sent(fake_services):
    result = send()

    assert (result.ok, result.error.code) == (False, "credentials_missing")
    assert "TELEGRAM_BOT_TOKEN" in result.error.message
    assert fake_services.log == []


def test_neither_the_text_nor_the_token_is_logged(fake_services, caplog):
    credential_for("telegram")
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_data("not json " + TEXT, status=200)

    with caplog.at_level(logging.DEBUG):
        assert send().ok
        assert send().error.code == "bad_response"

    # Everything the hub logged (werkzeug is the fake server's own access log).
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}"
        for record in caplog.records
        if not record.name.startswith("werkzeug")
    )
    assert "sendMessage" in logged  # the call is logged...
    assert TEXT not in logged  # ...but not what it said
    assert TELEGRAM_TOKEN.split(":")[1] not in logged
