"""Polling for local development without a public HTTPS URL (`manage.py telegram_poll`): the
updates getUpdates returns take the webhook's path from there on — the same inbox, the same
Celery drain, the same handlers. Telegram forgets an update once a later offset is asked for,
so the offset moves on only after the update is in the inbox."""

import logging
from collections.abc import Callable

from bots.telegram import api, receiving
from bots.telegram.updates import ALLOWED_UPDATES

logger = logging.getLogger(__name__)


def poll(*, timeout: int = 30, once: bool = False, on_update: Callable[[int], None] | None = None) -> int:
    """Long-poll Telegram and enqueue what arrives; how many updates were enqueued."""
    offset: int | None = None
    enqueued = 0
    while True:
        for raw in api.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES):
            try:
                update = receiving.update_parse_dict(raw)
            except receiving.BodyInvalid:
                logger.warning("telegram poll: update without id skipped")
                continue
            receiving.update_enqueue(update)
            offset = update["update_id"] + 1
            enqueued += 1
            if on_update is not None:
                on_update(update["update_id"])
        if once:
            return enqueued
