"""Fixtures of the notification tests: the fake Bot API, the bot pointed at it, bot users."""

import pytest

from bots.models import BotUser, Role, Subscription
from bots.notifications import services
from devices.models import DeviceEvent
from integrations.secrets import settings_store
from tests.fakes.telegram_bot_api import FakeTelegramBotAPI, Limits
from tests.workers import celery_worker, finished_tasks  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch):
    """As a freshly started process: no settings cached, no TELEGRAM_CHAT_ID chats ensured."""
    settings_store.store.reset()
    monkeypatch.setattr(services, "_chat_id_setting_ensured", None)
    monkeypatch.delenv("TELEGRAM_CHAT_ID", raising=False)
    yield
    settings_store.store.reset()


@pytest.fixture(autouse=True)
def _quick_notifications(settings):
    """Short gathering windows so that tests do not wait for seconds; the limits stay Telegram's."""
    settings.NOTIFICATIONS_GATHER_SECONDS = 0.3
    settings.NOTIFICATIONS_DIGEST_INTERVAL_SECONDS = 0.5
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0.5


@pytest.fixture
def fake(settings, monkeypatch):
    """The fake Bot API with Telegram's limits; the bot's token and URL point at it."""
    with FakeTelegramBotAPI(limits=Limits()) as server:
        settings.INTEGRATIONS_TELEGRAM_API_URL = server.base_url
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", server.token)
        yield server


@pytest.fixture
def bot_user_of():
    """A bot user with access to `owner`'s devices, subscribed to `kinds` (default: all)."""

    def make(owner, *, chat_id: int, role=Role.MANAGER, kinds=None, language="en", **fields) -> BotUser:
        chat_type = BotUser.ChatType.PRIVATE if chat_id > 0 else BotUser.ChatType.GROUP
        bot_user = BotUser.objects.create(
            chat_id=str(chat_id), chat_type=chat_type, owner=owner, role=role, language=language, **fields
        )
        for kind in DeviceEvent.Kind.values if kinds is None else kinds:
            Subscription.objects.create(bot_user=bot_user, event_kind=kind)
        return bot_user

    return make
