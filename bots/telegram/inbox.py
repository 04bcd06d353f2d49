"""Where received Telegram updates wait for a worker: a Redis stream on the broker's Redis, with
the webhook inbox's machinery (`integrations.webhooks.inbox.RedisInbox`: one atomic push that
deduplicates by id, a consumer group, late acknowledgement) under its own prefix."""

import functools

from django.conf import settings

from integrations.webhooks.inbox import RedisInbox


@functools.cache
def _inbox_for(url: str, prefix: str) -> RedisInbox:
    return RedisInbox(url, prefix)


def inbox_get() -> RedisInbox | None:
    """The Telegram update inbox, or None without Redis (WEBHOOKS_INBOX_URL empty)."""
    url = settings.WEBHOOKS_INBOX_URL
    return _inbox_for(url, settings.BOTS_TELEGRAM_INBOX_PREFIX) if url else None
