"""Prometheus metrics of outbound calls.

Counters and histograms work in prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR
set before the process starts): each gunicorn or Celery worker writes its own files and
/metrics sums them. The breaker state is not a per-process gauge: it lives in the breaker's
store, so the breaker module reads it there at scrape time (`breaker.BreakerStateCollector`).
"""

import os

from prometheus_client import Counter, Histogram

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


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
