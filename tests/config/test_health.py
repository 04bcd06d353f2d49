"""GET /health/ asks the real database, cache and broker; a dependency that is down turns the
answer into a 503 that says which one, never a 500."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CLOSED_PORT = "127.0.0.1:1"  # nothing listens here: connections are refused at once


def health() -> tuple[int, dict]:
    response = Client().get("/health/")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_all_up_is_200_with_each_dependency():
    status, body = health()

    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "up",
        "cache": "up",
        "broker": "up",
        "webhook_inbox": "up",
    }
    assert checks["database"]["detail"] == "postgresql"
    assert checks["cache"]["detail"] == "RedisCache"
    assert checks["broker"]["detail"] == "celery broker"
    assert checks["webhook_inbox"]["detail"] == "0 waiting"
    assert all(check["latency_ms"] >= 0 for check in checks.values())


def test_the_answer_is_never_cached():
    response = Client().get("/health/")

    assert "no-store" in response["Cache-Control"]


def test_a_cache_that_is_down_is_503(settings):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://{CLOSED_PORT}/0",
        }
    }

    status, body = health()

    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["broker"]["status"] == "up"


def test_a_broker_that_is_down_is_503(monkeypatch):
    # Celery reads this variable on every new connection it opens for writing.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", f"redis://{CLOSED_PORT}/0")

    status, body = health()

    assert status == 503
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["cache"]["status"] == "up"


def test_a_broker_that_is_down_is_not_reported_in_embedded_mode(settings, monkeypatch):
    """Without a broker tasks run in-process: there is nothing to be down."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", f"redis://{CLOSED_PORT}/0")

    status, body = health()

    assert status == 200
    assert body["checks"]["broker"] == {
        "status": "up",
        "latency_ms": body["checks"]["broker"]["latency_ms"],
        "detail": "in-process tasks",
    }


def test_a_webhook_inbox_that_is_down_is_503(settings):
    settings.WEBHOOKS_INBOX_URL = f"redis://{CLOSED_PORT}/0"

    status, body = health()

    assert status == 503
    assert body["checks"]["webhook_inbox"]["status"] == "down"
    assert body["checks"]["broker"]["status"] == "up"


def test_without_an_inbox_webhooks_need_only_the_database(settings):
    settings.WEBHOOKS_INBOX_URL = ""

    status, body = health()

    assert status == 200
    assert body["checks"]["webhook_inbox"]["detail"] == "none: deliveries are written as they arrive"


def test_health_answers_only_get():
    response = Client().post("/health/")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method not allowed: use GET."}
    assert response["Allow"] == "GET, HEAD"


def test_the_liveness_probe_answers_without_dependencies(settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://{CLOSED_PORT}/0"}}

    response = Client().get("/health/live/")

    assert response.status_code == 200
    assert response.content == b"pong"
