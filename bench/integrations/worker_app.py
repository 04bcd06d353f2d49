"""The hub's own Celery app (config.celery) with two counters for the webhook benchmark.

    PYTHONPATH=.:bench/integrations celery -A worker_app worker

- `benchint:handled` (hash delivery pk → count): one per committed `webhook_received`
  handling, counted on commit like any real subscriber's side effect would be.
- `benchint:results` (hash result → count): what `process_webhook_deliveries` runs returned,
  per delivery.

Both live in the broker's Redis database (the bench's own). Nothing else differs from
`celery -A config worker`: same tasks, same settings, same late acknowledgement.
"""

import redis
from celery.signals import task_postrun
from django.conf import settings
from django.db import transaction

from config.celery import app
from integrations.webhooks.signals import webhook_received

__all__ = ["app"]

HANDLED_KEY = "benchint:handled"
RESULTS_KEY = "benchint:results"
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:  # created in the pool process that uses it, never shared over a fork
        _client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return _client


def count_handling(sender, delivery, **kwargs) -> None:
    transaction.on_commit(lambda: _redis().hincrby(HANDLED_KEY, delivery.pk, 1))


def count_result(sender=None, retval=None, **kwargs) -> None:
    if sender is not None and sender.name.endswith("process_webhook_deliveries") and isinstance(retval, dict):
        for result, count in retval.items():
            _redis().hincrby(RESULTS_KEY, result, count)


webhook_received.connect(count_handling, dispatch_uid="bench.count_handling")
task_postrun.connect(count_result, weak=False)
