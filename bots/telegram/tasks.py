"""Celery tasks of the Telegram side; they call the same functions as the management commands."""

from celery import shared_task

from bots.telegram import updates, webhook


@shared_task(acks_late=True, ignore_result=True)
def drain_telegram_updates() -> int:
    """Handle the updates waiting in the inbox (scheduled by the first update pushed after the
    previous drain started, and by beat as a safety net). Late acknowledgement: a worker that
    dies mid-drain leaves its entries to the next drain; handled ones are not handled again."""
    return updates.updates_drain()


@shared_task(acks_late=True, ignore_result=True)
def handle_telegram_update(update: dict) -> bool:
    """One update, without the inbox (the embedded defaults: no Redis)."""
    return updates.update_handle(update)


@shared_task(ignore_result=True)
def check_telegram_webhook() -> bool:
    """Beat: record getWebhookInfo for /health/ and the admin (nothing without a bot token)."""
    return webhook.webhook_check() is not None
