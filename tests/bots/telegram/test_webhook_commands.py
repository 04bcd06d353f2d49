"""manage.py telegram_webhook set|info|delete, telegram_poll, and the periodic webhook check,
against the fake Bot API."""

import io

import pytest
from django.core.management import CommandError, call_command

from bots.models import ReceivedUpdate, TelegramWebhookCheck
from bots.telegram import updates, webhook
from bots.telegram.inbox import inbox_get
from integrations.secrets.services import setting_set
from integrations.secrets.settings_store import setting_get
from tests.bots.telegram.conftest import fixture_update

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class TestSet:
    def test_points_telegram_at_the_webhook_path_with_a_new_secret_it_stores(self, fake_telegram):
        out = run("telegram_webhook", "set", "--base-url", "https://hub.example.com/")

        secret = setting_get("TELEGRAM_WEBHOOK_SECRET")
        assert fake_telegram.webhook["url"] == "https://hub.example.com/telegram-webhook"
        assert fake_telegram.webhook["secret_token"] == secret
        assert len(secret) >= 32
        assert fake_telegram.webhook["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
        assert secret not in out

    def test_keeps_the_stored_secret_unless_asked_to_rotate_it(self, fake_telegram):
        setting_set(key="TELEGRAM_WEBHOOK_SECRET", value="kept-secret")
        run("telegram_webhook", "set", "--url", "https://hub.example.com/telegram-webhook")
        assert fake_telegram.webhook["secret_token"] == "kept-secret"

        run("telegram_webhook", "set", "--url", "https://hub.example.com/telegram-webhook", "--rotate-secret")

        assert setting_get("TELEGRAM_WEBHOOK_SECRET") != "kept-secret"
        assert fake_telegram.webhook["secret_token"] == setting_get("TELEGRAM_WEBHOOK_SECRET")

    def test_appends_the_secret_path_segment_when_one_is_set(self, fake_telegram):
        setting_set(key="TELEGRAM_WEBHOOK_PATH", value="s3gment")

        run("telegram_webhook", "set", "--base-url", "https://hub.example.com")

        assert fake_telegram.webhook["url"] == "https://hub.example.com/telegram-webhook/s3gment"

    def test_passes_the_options_on(self, fake_telegram):
        fake_telegram.push_update(fixture_update("message_start"))

        run(
            "telegram_webhook",
            "set",
            "--base-url",
            "https://hub.example.com",
            "--allowed-updates",
            "message",
            "--max-connections",
            "5",
            "--drop-pending-updates",
        )

        assert fake_telegram.webhook["allowed_updates"] == ["message"]
        assert fake_telegram.webhook["max_connections"] == 5
        assert run("telegram_webhook", "info").count("pending updates: 0") == 1

    @pytest.mark.parametrize(
        "args, message",
        [
            (["--base-url", "http://hub.example.com"], "HTTPS"),
            (["--base-url", "https://hub.example.com", "--max-connections", "0"], "between 1 and 100"),
        ],
    )
    def test_refuses_what_telegram_would_refuse(self, fake_telegram, args, message):
        with pytest.raises(CommandError, match=message):
            run("telegram_webhook", "set", *args)
        assert fake_telegram.webhook == {}

    def test_an_unreachable_bot_api_is_a_command_error(self, settings, db):
        setting_set(key="TELEGRAM_BOT_TOKEN", value="123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11")
        settings.INTEGRATIONS_TELEGRAM_API_URL = "http://127.0.0.1:9"

        with pytest.raises(CommandError, match="Telegram"):
            run("telegram_webhook", "set", "--base-url", "https://hub.example.com")


class TestInfoAndDelete:
    def test_info_shows_pending_updates_and_the_last_error_and_records_the_check(self, fake_telegram):
        run("telegram_webhook", "set", "--base-url", "https://hub.example.com")
        fake_telegram.push_update(fixture_update("message_start"))
        fake_telegram.webhook_error("Wrong response from the webhook: 503 Service Unavailable")

        out = run("telegram_webhook", "info")

        assert "url: https://hub.example.com/telegram-webhook" in out
        assert "pending updates: 1" in out
        assert "last error: Wrong response from the webhook: 503 Service Unavailable" in out
        check = TelegramWebhookCheck.objects.get()
        assert (check.reachable, check.pending_update_count) == (True, 1)

    def test_delete_removes_the_webhook(self, fake_telegram):
        run("telegram_webhook", "set", "--base-url", "https://hub.example.com")

        run("telegram_webhook", "delete")

        assert fake_telegram.webhook == {}
        assert "url: (none)" in run("telegram_webhook", "info")


class TestPeriodicCheck:
    def test_keeps_the_last_answer_in_one_row(self, fake_telegram):
        run("telegram_webhook", "set", "--base-url", "https://hub.example.com")
        webhook.webhook_check()
        fake_telegram.webhook_error("Connection timed out")

        check = webhook.webhook_check()

        assert TelegramWebhookCheck.objects.count() == 1
        assert check.last_error_message == "Connection timed out"
        assert check.url == "https://hub.example.com/telegram-webhook"

    def test_records_that_telegram_did_not_answer(self, settings, db):
        setting_set(key="TELEGRAM_BOT_TOKEN", value="123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11")
        settings.INTEGRATIONS_TELEGRAM_API_URL = "http://127.0.0.1:9"

        check = webhook.webhook_check()

        assert check.reachable is False
        assert check.error
        assert "ABC-DEF1234ghIkl" not in check.error

    def test_does_nothing_without_a_bot_token(self, db):
        assert webhook.webhook_check() is None
        assert not TelegramWebhookCheck.objects.exists()


class TestPolling:
    def test_updates_take_the_webhook_path_into_the_inbox_and_are_handled(self, fake_telegram):
        fake_telegram.push_update(fixture_update("message_group_chatid"))

        out = run("telegram_poll", "--once", "--timeout", "0")

        assert "update 861000002" in out
        assert inbox_get().waiting() == 1
        updates.updates_drain()
        assert ReceivedUpdate.objects.filter(update_id=861000002).exists()
        (reply,) = fake_telegram.messages_to(-4012345678)
        assert "-4012345678" in reply["text"]

    def test_an_update_polled_again_is_handled_once(self, fake_telegram):
        update = fixture_update("message_group_chatid")
        fake_telegram.push_update(update)
        run("telegram_poll", "--once", "--timeout", "0")
        fake_telegram.push_update(update)  # as if the offset had not moved on
        run("telegram_poll", "--once", "--timeout", "0")

        updates.updates_drain()

        assert len(fake_telegram.messages_to(-4012345678)) == 1

    def test_polling_while_a_webhook_is_set_says_what_to_do(self, fake_telegram):
        run("telegram_webhook", "set", "--base-url", "https://hub.example.com")

        with pytest.raises(CommandError, match="webhook is active"):
            run("telegram_poll", "--once", "--timeout", "0")
