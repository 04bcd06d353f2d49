"""The asynchronous execute path end to end: API → Celery (a real worker, Redis broker) →
fake Telegram. These tests commit, so the worker sees the rows."""

import pytest

from integrations import runs
from integrations.models import IntegrationRun
from integrations.run_tasks import integration_run_execute
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture
from tests.integrations.registry.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"
TEXT = "New device 0a1b2c3d4e5f6071 in Kyiv"


def run_status(run_id) -> str:
    return IntegrationRun.objects.get(pk=run_id).status


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
    run = IntegrationRun.objects.create(
        integration_id="telegram.send_message", integration_version="1.0.0", trigger="api"
    )
    sealed = runs.config_seal({"chat_id": -1001234567890, "text": TEXT})

    deliveries = [integration_run_execute.delay(str(run.id), sealed) for _ in range(2)]

    wait_until(lambda: all(delivery.id in finished_tasks for delivery in deliveries))
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert len(fake_services.log) == 1


def test_a_rate_limited_message_is_retried_by_the_task_and_sent_once(celery_worker, fake_services, waits):
    credential_for("telegram")
    too_many = fixture("telegram", "too_many_requests") | {"parameters": {"retry_after": 1}}
    for _ in range(2):  # both attempts of the first delivery
        fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(too_many, status=429)
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    run = IntegrationRun.objects.create(
        integration_id="telegram.send_message", integration_version="1.0.0", trigger="connection"
    )

    integration_run_execute.delay(str(run.id), runs.config_seal({"chat_id": -1001234567890, "text": TEXT}))

    wait_until(lambda: run_status(run.id) == "succeeded")
    run.refresh_from_db()
    assert run.attempts == 2
    assert [response.status_code for _, response in fake_services.log] == [429, 429, 200]
