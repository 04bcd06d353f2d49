"""Prometheus metrics of outbound calls.

Counters and histograms work in prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR
set before the process starts): each gunicorn or Celery worker writes its own files and
/metrics sums them. The breaker state is not a per-process gauge: it lives in Redis, so it is
read there at scrape time by `BreakerStateCollector` and is right whichever process serves
/metrics, with no stale value left behind by an idle or dead worker.
"""

import logging
import os

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("integrations.outbound")

REQUESTS = Counter(
    "switchboard_outbound_requests",
    "Outbound calls by final outcome: ok, http_4xx, http_429, http_5xx, timeout, connection_error, "
    "bad_response, circuit_open (one per call, retries included).",
    ["integration", "operation", "outcome"],
)
DURATION = Histogram(
    "switchboard_outbound_request_duration_seconds",
    "Duration of each HTTP attempt of an outbound call.",
    ["integration", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RETRIES = Counter(
    "switchboard_outbound_retries",
    "Attempts repeated after a timeout, connection error, 429 or 5xx.",
    ["integration", "operation", "reason"],
)
CACHE = Counter(
    "switchboard_outbound_cache_lookups",
    "Cache lookups of idempotent reads: hit, miss, stale (served while the service failed).",
    ["integration", "operation", "result"],
)
BREAKER_TRANSITIONS = Counter(
    "switchboard_outbound_breaker_transitions",
    "Circuit breaker state changes, by the state entered.",
    ["integration", "state"],
)


class BreakerStateCollector:
    """switchboard_outbound_breaker_state{integration}: 0 closed, 1 half-open, 2 open."""

    def describe(self):
        # Registering calls describe(); without it the registry would call collect() at import.
        return [self._family()]

    def collect(self):
        from integrations.outbound.breaker import STATE_VALUES, get_store

        family = self._family()
        try:
            states = get_store().states()
        except Exception as exc:  # a scrape must not fail because Redis does
            logger.warning("breaker states unavailable for /metrics: %s", exc.__class__.__name__)
            states = {}
        for integration, state in states.items():
            family.add_metric([integration], STATE_VALUES.get(state, 0))
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "switchboard_outbound_breaker_state",
            "Circuit breaker state per integration: 0 closed, 1 half-open, 2 open.",
            labels=["integration"],
        )


BREAKER_STATE = BreakerStateCollector()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
