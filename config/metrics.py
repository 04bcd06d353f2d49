"""GET /metrics: Prometheus text format, for every process of the hub.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers, Celery workers on the same
host), each process writes its metrics to files there and this view sums them; otherwise it
renders this process's registry. Set METRICS_TOKEN to require `Authorization: Bearer <token>`.

Several containers sharing one volume (docker-compose: web, asgi, worker, beat) each number
their processes from 1, and prometheus_client names a process's files by its pid: in one
directory they would overwrite each other. So each container writes to a directory of its own
(PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus/web, …/worker) and this view sums every file under
METRICS_SCRAPE_DIR (/tmp/prometheus), which defaults to PROMETHEUS_MULTIPROC_DIR.
"""

import glob
import hmac
import os

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from config.errors import json_error, read_only_view
from integrations.outbound.breaker import BREAKER_STATE
from integrations.outbound.metrics import multiprocess_dir
from integrations.webhooks.metrics import INBOX_STATE

# Read from Redis when /metrics is scraped, not kept per process.
SCRAPE_TIME_COLLECTORS = (BREAKER_STATE, INBOX_STATE)


class ProcessFilesCollector:
    """Every process's metric files under a directory, its subdirectories included."""

    def __init__(self, root: str):
        self.root = root

    def collect(self):
        files = glob.glob(os.path.join(self.root, "**", "*.db"), recursive=True)
        return MultiProcessCollector.merge(files, accumulate=True)


def scrape_registry() -> CollectorRegistry:
    """The registry /metrics renders: every process's files in multiprocess mode, else this one."""
    path = multiprocess_dir()
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(ProcessFilesCollector(os.environ.get("METRICS_SCRAPE_DIR") or path))
    for collector in SCRAPE_TIME_COLLECTORS:
        registry.register(collector)
    return registry


if not multiprocess_dir():
    for _collector in SCRAPE_TIME_COLLECTORS:
        REGISTRY.register(_collector)


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@read_only_view
@never_cache
def metrics(request):
    if not _authorized(request):
        response = json_error("A valid metrics token is required (Authorization: Bearer <token>).", 401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
