"""/health/ shows the Telegram webhook's state from the last periodic check (never a Telegram
call per probe) as "up" or "warning": a warning never makes the hub unhealthy."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from integrations.secrets.services import setting_set
from tests.bots.admin.helpers import make_webhook_check

pytestmark = pytest.mark.django_db


def telegram_entry() -> dict | None:
    response = Client().get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    return body["checks"].get("telegram_webhook")


@pytest.fixture
def bot_token():
    setting_set(key="TELEGRAM_BOT_TOKEN", value="123456:TEST-token")


def test_without_a_bot_token_there_is_no_entry():
    make_webhook_check(pending_update_count=5000)

    assert telegram_entry() is None


def test_a_recent_healthy_check_is_up_and_hides_the_url(bot_token):
    check = make_webhook_check(pending_update_count=3, max_connections=40)

    entry = telegram_entry()

    assert entry == {
        "status": "up",
        "detail": {
            "checked_at": check.checked_at.isoformat(),
            "reachable": True,
            "webhook_set": True,
            "pending_update_count": 3,
            "last_error_message": None,
            "last_error_at": None,
        },
    }


def test_no_check_yet_is_a_warning(bot_token):
    entry = telegram_entry()

    assert entry["status"] == "warning"
    assert "not been checked yet" in entry["warnings"][0]
    assert "detail" not in entry


def test_updates_piling_up_are_a_warning(bot_token):
    make_webhook_check(pending_update_count=101)

    entry = telegram_entry()

    assert entry["status"] == "warning"
    assert entry["warnings"] == ["101 updates are waiting to be delivered to the webhook."]
    assert entry["detail"]["pending_update_count"] == 101


def test_a_delivery_error_within_the_hour_is_a_warning_and_an_older_one_is_not(bot_token):
    check = make_webhook_check(
        last_error_at=timezone.now() - dt.timedelta(minutes=10),
        last_error_message="Wrong response from the webhook: 500 Internal Server Error",
    )

    entry = telegram_entry()
    assert entry["status"] == "warning"
    assert "500 Internal Server Error" in entry["warnings"][0]
    assert entry["detail"]["last_error_message"] == check.last_error_message
    assert entry["detail"]["last_error_at"] == check.last_error_at.isoformat()

    check.last_error_at = timezone.now() - dt.timedelta(hours=2)
    check.save()
    assert telegram_entry()["status"] == "up"


def test_a_stale_check_is_a_warning(bot_token):
    make_webhook_check(checked_at=timezone.now() - dt.timedelta(minutes=20))

    entry = telegram_entry()

    assert entry["status"] == "warning"
    assert "20 minutes old" in entry["warnings"][0]


def test_a_check_telegram_did_not_answer_is_a_warning(bot_token):
    make_webhook_check(reachable=False, error="TelegramUnavailable: NetworkError: connection refused")

    entry = telegram_entry()

    assert entry["status"] == "warning"
    assert entry["warnings"] == [
        "Telegram did not answer the last check: TelegramUnavailable: NetworkError: connection refused."
    ]
    assert entry["detail"]["reachable"] is False


def test_no_webhook_set_is_a_warning(bot_token):
    make_webhook_check(url="")

    entry = telegram_entry()

    assert entry["status"] == "warning"
    assert entry["detail"]["webhook_set"] is False


def test_the_latest_check_counts(bot_token):
    make_webhook_check(checked_at=timezone.now() - dt.timedelta(minutes=5), pending_update_count=900)
    make_webhook_check(pending_update_count=0)

    assert telegram_entry()["status"] == "up"
