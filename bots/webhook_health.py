"""How the Telegram webhook is doing, read from the last periodic check (`TelegramWebhookCheck`,
written by the beat task) — never a Telegram call per probe. `/health/` shows it as a warning,
not a failure (the hub works without Telegram), and the admin shows the same warnings.

    webhook_check_warnings(check, now=timezone.now())  # ["1,204 updates are waiting …"]
    telegram_webhook_health()  # None when no bot token is set; else {"status": "up" | "warning", …}
"""

import datetime as dt

from django.utils import timezone

from bots.models import TelegramWebhookCheck
from integrations.secrets.settings_store import setting_get

PENDING_UPDATES_WARNING = 100  # Telegram keeps updates for 24 h: a backlog means we are not taking them
RECENT_ERROR = dt.timedelta(hours=1)
CHECK_STALE_AFTER = dt.timedelta(minutes=15)  # the check runs every few minutes


def webhook_check_warnings(check: TelegramWebhookCheck | None, *, now: dt.datetime) -> list[str]:
    """What a person running the hub should look at, from one check (empty: all is well)."""
    if check is None:
        return ["The webhook has not been checked yet: is Celery beat running?"]
    warnings = []
    if now - check.checked_at > CHECK_STALE_AFTER:
        minutes = int((now - check.checked_at).total_seconds() // 60)
        warnings.append(f"The last webhook check is {minutes} minutes old: is Celery beat running?")
    if not check.reachable:
        warnings.append(f"Telegram did not answer the last check: {check.error or 'no reason given'}.")
        return warnings
    if not check.url:
        warnings.append("No webhook is set (expected only while the bot polls, in development).")
    if check.pending_update_count > PENDING_UPDATES_WARNING:
        warnings.append(f"{check.pending_update_count:,} updates are waiting to be delivered to the webhook.")
    if check.last_error_at is not None and now - check.last_error_at <= RECENT_ERROR:
        warnings.append(f"Telegram could not deliver an update recently: {check.last_error_message or 'no message'}.")
    return warnings


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def telegram_webhook_health(*, now: dt.datetime | None = None) -> dict | None:
    """The `/health/` entry: None when the bot is not configured (no TELEGRAM_BOT_TOKEN). The
    webhook URL is not shown (its path may hold a secret segment), only whether one is set."""
    if not setting_get("TELEGRAM_BOT_TOKEN", None):
        return None
    now = now or timezone.now()
    check = TelegramWebhookCheck.objects.order_by("-checked_at").first()
    warnings = webhook_check_warnings(check, now=now)
    entry: dict = {"status": "warning" if warnings else "up"}
    if warnings:
        entry["warnings"] = warnings
    if check is not None:
        entry["detail"] = {
            "checked_at": _iso(check.checked_at),
            "reachable": check.reachable,
            "webhook_set": bool(check.url),
            "pending_update_count": check.pending_update_count,
            "last_error_message": check.last_error_message or None,
            "last_error_at": _iso(check.last_error_at),
        }
    return entry
