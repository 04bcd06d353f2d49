"""Fixtures of the Telegram tests: the fake Bot API server the bot is pointed at, the webhook
secret, and a client that posts updates as Telegram does."""

import json
import pathlib

import pytest

from integrations.secrets.services import setting_set
from tests.fakes.telegram_bot_api import FakeTelegramBotAPI
from tests.workers import celery_worker  # noqa: F401  (a real worker for the tests that need one)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "Wh-secret_0123456789abcdefABCDEF"


def fixture_update(name: str, **changes) -> dict:
    update = json.loads((FIXTURES / f"{name}.json").read_text())
    update.update(changes)
    return update


@pytest.fixture
def fake_telegram(settings, db):
    """The fake Bot API on 127.0.0.1, and the bot pointed at it (token in the settings store)."""
    with FakeTelegramBotAPI() as fake:
        settings.INTEGRATIONS_TELEGRAM_API_URL = fake.base_url
        setting_set(key="TELEGRAM_BOT_TOKEN", value=fake.token)
        yield fake


@pytest.fixture
def webhook_secret(db) -> str:
    setting_set(key="TELEGRAM_WEBHOOK_SECRET", value=WEBHOOK_SECRET)
    return WEBHOOK_SECRET


@pytest.fixture
def post_update(client):
    """POST a body to the webhook as Telegram does (JSON, the secret header)."""

    def post(body, *, secret: str | None = WEBHOOK_SECRET, path: str = "/telegram-webhook", **headers):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if secret is not None:
            headers["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = secret
        return client.post(path, data=data, content_type="application/json", **headers)

    return post
