"""Celery tasks of the integrations app, imported here so `autodiscover_tasks()` (which looks
for `<app>.tasks`) registers them."""

from integrations.run_tasks import *  # noqa: F403  (integration runs)
from integrations.webhooks.tasks import process_webhook_delivery, redispatch_unprocessed_deliveries

__all__ = ["process_webhook_delivery", "redispatch_unprocessed_deliveries"]
