"""Celery tasks of the integrations app, imported here so `autodiscover_tasks()` (which looks
for `<app>.tasks`) registers them."""

from integrations.run_tasks import *  # noqa: F403  (integration runs)
from integrations.webhooks.tasks import (
    drain_webhook_inbox,
    process_webhook_deliveries,
    redispatch_unprocessed_deliveries,
)

__all__ = ["drain_webhook_inbox", "process_webhook_deliveries", "redispatch_unprocessed_deliveries"]
