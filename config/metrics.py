"""GET /metrics: Prometheus text format, for every process of the hub.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers, Celery workers on the same
host), each process writes its metrics to files there and this view sums them; otherwise it
renders this process's registry. Set METRICS_TOKEN to require `Authorization: Bearer <token>`.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from config.errors import json_error
from integrations.outbound.metrics import scrape_registry


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def metrics(request):
    if not _authorized(request):
        response = json_error("A valid metrics token is required (Authorization: Bearer <token>).", 401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
