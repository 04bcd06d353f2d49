"""Setting, showing and deleting the bot's webhook (the `telegram_webhook` command), and the
periodic check whose last result `/health/` and the admin show.

The webhook secret lives in the settings store (TELEGRAM_WEBHOOK_SECRET): `webhook_set`
generates one when none is set, stores it, and only then tells Telegram, so no update arrives
with a secret the hub does not know yet (Telegram retries the few refused in between).
"""

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from bots.models import TelegramWebhookCheck
from bots.telegram import api
from bots.telegram.updates import ALLOWED_UPDATES
from integrations.secrets.services import setting_set
from integrations.secrets.settings_store import setting_get

WEBHOOK_PATH = "/telegram-webhook"


@dataclasses.dataclass(frozen=True)
class WebhookInfo:
    url: str
    pending_update_count: int
    last_error_at: dt.datetime | None
    last_error_message: str
    max_connections: int | None
    allowed_updates: list[str]


def webhook_url(base_url: str) -> str:
    """The public URL Telegram calls: the hub's base URL, the path, and the secret segment if set."""
    segment = setting_get("TELEGRAM_WEBHOOK_PATH", None)
    url = base_url.rstrip("/") + WEBHOOK_PATH
    return f"{url}/{segment}" if segment else url


def webhook_set(
    *,
    url: str,
    allowed_updates: Sequence[str] | None = None,
    drop_pending_updates: bool = False,
    max_connections: int | None = None,
    rotate_secret: bool = False,
) -> None:
    secret = setting_get("TELEGRAM_WEBHOOK_SECRET", None)
    if rotate_secret or not secret:
        # Telegram's secret_token: 1–256 characters of A-Z, a-z, 0-9, _ and -.
        secret = secrets.token_urlsafe(48)
        with transaction.atomic():
            setting_set(key="TELEGRAM_WEBHOOK_SECRET", value=secret)
    api.run(
        lambda bot: bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=list(allowed_updates or ALLOWED_UPDATES),
            drop_pending_updates=drop_pending_updates,
            max_connections=max_connections,
        )
    )


def webhook_delete(*, drop_pending_updates: bool = False) -> None:
    api.run(lambda bot: bot.delete_webhook(drop_pending_updates=drop_pending_updates))


def webhook_info() -> WebhookInfo:
    info = api.run(lambda bot: bot.get_webhook_info())
    return WebhookInfo(
        url=info.url or "",
        pending_update_count=info.pending_update_count or 0,
        last_error_at=info.last_error_date,
        last_error_message=info.last_error_message or "",
        max_connections=info.max_connections,
        allowed_updates=list(info.allowed_updates or []),
    )


def webhook_check() -> TelegramWebhookCheck | None:
    """Ask Telegram for the webhook's state and keep the answer (one row); None without a token."""
    if not setting_get("TELEGRAM_BOT_TOKEN", None):
        return None
    fields: dict = {"checked_at": timezone.now()}
    try:
        info = webhook_info()
    except api.TelegramCallFailed as exc:
        fields.update(reachable=False, error=exc.detail)
    else:
        fields.update(
            reachable=True,
            error="",
            url=info.url[:500],
            pending_update_count=info.pending_update_count,
            last_error_at=info.last_error_at,
            last_error_message=info.last_error_message[:500],
            max_connections=info.max_connections,
            allowed_updates=info.allowed_updates,
        )
    check, _ = TelegramWebhookCheck.objects.update_or_create(pk=1, defaults=fields)
    return check
