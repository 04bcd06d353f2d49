"""The asynchronous execute path end to end: API → Celery (a real worker, Redis broker) →
fake Telegram. These tests commit, so the worker sees the rows."""

import json

import pytest

from integrations.models import IntegrationRun
from integrations.runs import services as runs
from integrations.runs.tasks import integration_run_execute
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture
from tests.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"
TEXT = "New device 0a1b2c3d4e5f6071 in Kyiv"


def run_status(run_id) -> str:
    return IntegrationRun.objects.get(pk=run_id).status


def queued_run(*, trigger: str) -> IntegrationRun:
    return runs.integration_execute(
        integration_id="telegram.send_message", config={"chat_id": -1001234567890, "text": TEXT}, trigger=trigger
    ).run


def test_a_message_is_accepted_then_sent_once_by_the_worker(celery_worker, executor_client, fake_services):
    credential_for("telegram")
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    response = executor_client.post(
        "/api/v1/integrations/telegram.send_message/execute/",
        {"config": {"chat_id": -1001234567890, "text": TEXT}},
        format="json",
    )

    assert response.status_code == 202
    run_id = response.json()["run_id"]
    assert response.json() == {"run_id": run_id, "status": "queued"}
    assert response["Location"].endswith(f"/api/v1/integrations/runs/{run_id}/")
    wait_until(lambda: run_status(run_id) == "succeeded")
    ((request, _),) = fake_services.log
    assert request.form["text"] == TEXT
    run = executor_client.get(f"/api/v1/integrations/runs/{run_id}/").json()
    assert (run["status"], run["attempts"], run["error"]) == ("succeeded", 1, None)
    assert run["result"]["message_id"] == 4711
    assert TEXT not in str(run)


def test_a_task_delivered_twice_sends_once(celery_worker, fake_services, finished_tasks):
    credential_for("telegram")
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    run = queued_run(trigger="api")  # its task is published once it is committed

    duplicate = integration_run_execute.delay(str(run.id))

    wait_until(lambda: duplicate.id in finished_tasks and run_status(run.id) == "succeeded")
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert len(fake_services.log) == 1


def test_a_rate_limited_message_is_retried_by_the_task_and_sent_once(celery_worker, fake_services, waits):
    credential_for("telegram")
    too_many = fixture("telegram", "too_many_requests") | {"parameters": {"retry_after": 1}}
    for _ in range(2):  # both attempts of the first delivery
        fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(too_many, status=429)
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    run = queued_run(trigger="connection")

    wait_until(lambda: run_status(run.id) == "succeeded")
    run.refresh_from_db()
    assert run.attempts == 2
    assert [response.status_code for _, response in fake_services.log] == [429, 429, 200]


def test_an_outcome_is_recorded_across_a_database_connection_lost_after_the_call(fake_services):
    """The worker's connection to PostgreSQL is cut while the message is being sent (as when the
    database restarts): the outcome is written once a connection works again, so recovery never
    sends the message a second time."""
    import psycopg
    from django.db import connection
    from werkzeug import Response

    credential_for("telegram")
    run = queued_run(trigger="connection")
    connection.ensure_connection()
    worker_backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()

    def send_and_cut_the_workers_connection(request):
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [worker_backend])
        return Response(json.dumps(fixture("telegram", "send_message_ok")), content_type="application/json")

    fake_services.expect_request(SEND, method="POST").respond_with_handler(send_and_cut_the_workers_connection)

    performed = runs.integration_run_perform(run_id=str(run.id))

    assert (performed.executed, performed.run.status) == (True, "succeeded")
    assert run_status(run.id) == "succeeded"
    assert len(fake_services.log) == 1


def test_a_live_workers_long_call_keeps_renewing_its_lease_so_recovery_leaves_it_alone(fake_services, settings):
    """A call longer than the lease: the worker renews the lease while it waits, so the sweep does
    not take the run for a dead worker's and send it a second time."""
    import threading
    import time

    from django.db import connection
    from werkzeug import Response

    settings.INTEGRATIONS_RUN_LEASE_SECONDS = 1  # renewed every third of a second
    settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS = 10
    credential_for("telegram")
    run = queued_run(trigger="connection")

    def slow_send(request):
        time.sleep(2.5)
        return Response(json.dumps(fixture("telegram", "send_message_ok")), content_type="application/json")

    fake_services.expect_request(SEND, method="POST").respond_with_handler(slow_send)

    def perform():
        try:
            runs.integration_run_perform(run_id=str(run.id))
        finally:
            connection.close()

    worker = threading.Thread(target=perform)
    worker.start()
    time.sleep(1.8)  # well past the lease taken at the claim
    recovered_meanwhile = runs.runs_recover()
    worker.join(timeout=30)

    assert recovered_meanwhile == 0
    assert run_status(run.id) == "succeeded"
    assert len(fake_services.log) == 1
