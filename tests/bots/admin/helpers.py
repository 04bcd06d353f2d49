"""Rows of the bots the admin and API tests start from, made as the bot and the senders make them,
and the fake Telegram the test message goes to."""

import itertools
from contextlib import contextmanager

from django.utils import timezone

from bots.models import BotUser, Delivery, ReceivedUpdate, Role, SentMessage, TelegramWebhookCheck
from devices.models import DeviceEvent
from integrations.secrets.services import setting_set
from tests.fakes.telegram_bot_api import FakeTelegramBotAPI, Limits

_chat_ids = itertools.count(100_001)


def make_bot_user(**fields) -> BotUser:
    """A private chat that wrote /start (no access unless `role` and `owner` are given)."""
    chat_id = next(_chat_ids)
    defaults = {
        "chat_id": str(chat_id),
        "username": f"person{chat_id}",
        "display_name": f"Person {chat_id}",
        "role": Role.NONE,
        "last_seen_at": timezone.now(),
    }
    return BotUser.objects.create(**{**defaults, **fields})


def make_delivered_event(*, bot_user: BotUser, device, is_digest: bool = False) -> Delivery:
    """A device event told to the bot user in a message that is sent."""
    event = DeviceEvent.objects.filter(device=device).first() or DeviceEvent.objects.create(
        device=device, kind=DeviceEvent.Kind.REGISTERED, payload={}
    )
    message = SentMessage.objects.create(
        bot_user=bot_user,
        chat_id=bot_user.chat_id,
        is_digest=is_digest,
        status=SentMessage.Status.SENT,
        attempts=1,
        message_ids=[7],
        event_count=1,
        sent_at=timezone.now(),
    )
    return Delivery.objects.create(
        bot_user=bot_user,
        event=event,
        event_kind=event.kind,
        device_id=device.device_id,
        status=Delivery.Status.SENT,
        attempts=1,
        message=message,
        sent_at=timezone.now(),
    )


def make_received_update(update_id: int = 5001) -> ReceivedUpdate:
    return ReceivedUpdate.objects.create(update_id=update_id, kind="message")


def make_webhook_check(**fields) -> TelegramWebhookCheck:
    """The beat task's last getWebhookInfo: all well unless the fields say otherwise."""
    defaults = {
        "checked_at": timezone.now(),
        "reachable": True,
        "url": "https://hub.example.com/telegram-webhook/s3cr3t-segment",
        "pending_update_count": 0,
    }
    return TelegramWebhookCheck.objects.create(**{**defaults, **fields})


@contextmanager
def fake_telegram(settings):
    """The fake Bot API, with the hub's token and Bot API URL pointing at it."""
    with FakeTelegramBotAPI(limits=Limits.off()) as fake:
        settings.INTEGRATIONS_TELEGRAM_API_URL = fake.base_url
        setting_set(key="TELEGRAM_BOT_TOKEN", value=fake.token)
        yield fake
