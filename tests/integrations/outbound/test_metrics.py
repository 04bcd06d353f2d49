"""GET /metrics: outbound calls, retries, cache, breaker state and the HTTP server's own
requests, in Prometheus text format — summed over processes in multiprocess mode."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.test import Client

from integrations.outbound.breaker import Admission
from tests.metrics import sample, scrape


def test_outbound_calls_retries_and_cache_lookups_are_exposed(client, httpserver):
    httpserver.expect_ordered_request("/ping").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/ping").respond_with_json({"pong": True})
    labels = {"integration": "metrics-demo", "operation": "ping"}

    client.request(method="GET", url=httpserver.url_for("/ping"), cache_ttl=60, **labels)
    client.request(method="GET", url=httpserver.url_for("/ping"), cache_ttl=60, **labels)
    metrics = scrape()

    assert sample(metrics, "switchboard_outbound_requests_total", outcome="ok", **labels) == 1
    assert sample(metrics, "switchboard_outbound_retries_total", reason="http_5xx", **labels) == 1
    assert sample(metrics, "switchboard_outbound_request_duration_seconds_count", **labels) == 2
    assert sample(metrics, "switchboard_outbound_cache_lookups_total", result="miss", **labels) == 1
    assert sample(metrics, "switchboard_outbound_cache_lookups_total", result="hit", **labels) == 1


def test_failed_calls_are_counted_by_outcome(client, refused_url):
    with pytest.raises(Exception, match="could not be reached"):
        client.request(integration="metrics-down", operation="ping", method="GET", url=refused_url)

    metrics = scrape()

    assert (
        sample(
            metrics,
            "switchboard_outbound_requests_total",
            integration="metrics-down",
            operation="ping",
            outcome="connection_error",
        )
        == 1
    )
    assert (
        sample(
            metrics,
            "switchboard_outbound_retries_total",
            integration="metrics-down",
            operation="ping",
            reason="connection_error",
        )
        == 2
    )


def test_the_breaker_state_is_read_from_the_shared_store_at_scrape_time(client, settings):
    breaker = client.breaker("metrics-breaker")
    client.breaker("metrics-closed").admit()
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX):
        breaker.record_failure(Admission(allowed=True))

    metrics = scrape()

    assert sample(metrics, "switchboard_outbound_breaker_state", integration="metrics-breaker") == 2
    assert sample(metrics, "switchboard_outbound_breaker_state", integration="metrics-closed") == 0
    assert (
        sample(metrics, "switchboard_outbound_breaker_transitions_total", integration="metrics-breaker", state="open")
        == 1
    )


def test_the_http_servers_own_requests_are_exposed(db):
    Client().get("/health/live/")

    metrics = scrape()

    assert (
        sample(
            metrics,
            "django_http_responses_total_by_status_view_method_total",
            method="GET",
            status="200",
            view="health-live",
        )
        >= 1
    )
    assert any(name == "django_http_requests_latency_seconds_by_view_method_bucket" for name, _ in metrics)


def test_a_metrics_token_is_required_when_configured(settings):
    settings.METRICS_TOKEN = "scrape-token"

    assert Client().get("/metrics").status_code == 401
    refused = Client().get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Bearer"
    assert scrape(Authorization="Bearer scrape-token")


def test_metrics_are_read_only():
    assert Client().post("/metrics").status_code == 405


def test_in_multiprocess_mode_metrics_of_every_process_are_summed(httpserver, tmp_path, monkeypatch, settings):
    """Two worker processes each make a call; /metrics, served by a third, counts both."""
    httpserver.expect_request("/ping").respond_with_json({"pong": True})
    worker = textwrap.dedent(f"""
        import django
        django.setup()
        from integrations import outbound
        outbound.request(integration="multiproc", operation="ping", method="GET", url={httpserver.url_for("/ping")!r})
    """)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, cwd=settings.BASE_DIR, check=True, timeout=60)
    assert list(tmp_path.glob("*.db"))

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = scrape()

    assert (
        sample(metrics, "switchboard_outbound_requests_total", integration="multiproc", operation="ping", outcome="ok")
        == 2
    )
    assert (
        sample(
            metrics, "switchboard_outbound_request_duration_seconds_count", integration="multiproc", operation="ping"
        )
        == 2
    )
    assert sample(metrics, "switchboard_outbound_breaker_state", integration="multiproc") == 0


def test_containers_that_number_their_processes_alike_are_all_counted(httpserver, tmp_path, monkeypatch, settings):
    """web and worker share the metrics volume and each has a process 1: each writes to its own
    directory, and /metrics sums every file under the shared one."""
    httpserver.expect_request("/ping").respond_with_json({"pong": True})
    worker = textwrap.dedent(f"""
        import django
        django.setup()
        from integrations import outbound
        outbound.request(integration="containers", operation="ping", method="GET", url={httpserver.url_for("/ping")!r})
    """)
    for container in ("web", "worker"):
        directory = tmp_path / container
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "DJANGO_SETTINGS_MODULE": "config.settings"}
        subprocess.run([sys.executable, "-c", worker], env=env, cwd=settings.BASE_DIR, check=True, timeout=60)
        for path in directory.glob("*.db"):  # as if the process were pid 1 in its container
            path.rename(path.with_name(path.name.rsplit("_", 1)[0] + "_1.db"))
    assert sorted(p.name for p in (tmp_path / "web").glob("*.db")) == sorted(
        p.name for p in (tmp_path / "worker").glob("*.db")
    )

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "web"))
    monkeypatch.setenv("METRICS_SCRAPE_DIR", str(tmp_path))
    metrics = scrape()

    assert (
        sample(metrics, "switchboard_outbound_requests_total", integration="containers", operation="ping", outcome="ok")
        == 2
    )
