"""Prometheus metrics of the webhook inbox, read from Redis at scrape time (like the breaker
state): right whichever process serves /metrics."""

import logging

from prometheus_client.core import GaugeMetricFamily

from integrations.webhooks import inbox

logger = logging.getLogger(__name__)


class InboxCollector:
    """switchboard_webhook_inbox_waiting and switchboard_webhook_inbox_oldest_age_seconds."""

    def describe(self):
        # Registering calls describe(); without it the registry would call collect() at import.
        return list(self._families())

    def collect(self):
        box = inbox.inbox_get()
        if box is None:  # no inbox: deliveries are written as they arrive
            return
        try:
            waiting, oldest_age = box.backlog()
        except Exception as exc:  # a scrape must not fail because Redis does
            logger.warning("webhook inbox backlog unavailable for /metrics: %s", exc.__class__.__name__)
            return
        waiting_family, age_family = self._families()
        waiting_family.add_metric([], waiting)
        age_family.add_metric([], oldest_age)
        yield waiting_family
        yield age_family

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "switchboard_webhook_inbox_waiting",
                "Webhook deliveries recorded in the inbox and not yet written to the database.",
            ),
            GaugeMetricFamily(
                "switchboard_webhook_inbox_oldest_age_seconds",
                "Age of the oldest delivery waiting in the inbox (0 when empty): growing means no drain runs.",
            ),
        )


INBOX_STATE = InboxCollector()
