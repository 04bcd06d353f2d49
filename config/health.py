"""GET /health/: is the hub able to work? Checks the database, the cache, the task broker and,
where there is one, the webhook inbox (which receiving webhooks needs).

Where a Telegram bot is configured, its webhook's state (the last periodic check) is shown too,
as "up" or "warning": the hub works without Telegram, so a warning never makes it unhealthy."""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from bots.webhook_health import telegram_webhook_health
from config.errors import read_only_view


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:  # any failure of a dependency is a "down", never a 500
        return {"status": "down", "error": exc.__class__.__name__}
    result = {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    if detail:
        result["detail"] = detail
    return result


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _cache():
    cache = caches["default"]
    cache.set("health:probe", "1", 10)
    if cache.get("health:probe") != "1":
        raise RuntimeError("cache did not return the probe")
    return cache.__class__.__name__


def _broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process tasks"
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "celery broker"


def _webhook_inbox():
    from integrations.webhooks import inbox

    box = inbox.inbox_get()
    if box is None:
        return "none: deliveries are written as they arrive"
    return f"{box.waiting()} waiting"


def _telegram_webhook() -> dict | None:
    try:
        return telegram_webhook_health()
    except Exception as exc:  # the database is down: its own check says so, this only warns
        return {"status": "warning", "warnings": ["The webhook state cannot be read."], "error": exc.__class__.__name__}


@read_only_view
@never_cache
def health(request):
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "broker": _check(_broker),
        "webhook_inbox": _check(_webhook_inbox),
    }
    healthy = all(check["status"] == "up" for check in checks.values())
    telegram = _telegram_webhook()
    if telegram is not None:
        checks["telegram_webhook"] = telegram
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)


@read_only_view
@never_cache
def ping(request):
    """Liveness: answers without touching any dependency (the benchmark's ceiling, too)."""
    return HttpResponse(b"pong", content_type="text/plain")
