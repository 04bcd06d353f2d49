"""Runs of side-effecting integrations: queued with their config sealed, executed at most once
per delivery of their task, retried only when the message surely did not arrive."""

import json

import pytest
from django.forms.models import model_to_dict

from integrations import runs
from integrations.models import IntegrationRun
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture, point_services_at

pytestmark = pytest.mark.django_db

TEXT = "Device 0a1b2c3d4e5f6071 went offline"
CONFIG = {"chat_id": -1001234567890, "text": TEXT}
SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """A queued telegram.send_message run and the sealed config its task carries."""
    credential_for("telegram")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        outcome = runs.integration_execute(
            integration_id="telegram.send_message", config=dict(CONFIG), trigger=IntegrationRun.Trigger.CONNECTION
        )
    assert outcome.result is None and len(enqueued) == 1
    return outcome.run, runs.config_seal(CONFIG)


def perform(run, sealed, **kwargs):
    return runs.integration_run_perform(run_id=str(run.id), sealed_config=sealed, **kwargs)


def test_a_side_effecting_integration_is_queued_not_executed(queued):
    run, _ = queued

    assert (run.status, run.trigger, run.attempts, run.started_at) == ("queued", "connection", 0, None)


def test_the_config_travels_encrypted_and_is_never_stored(queued, fake_services):
    run, sealed = queued
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    perform(run, sealed)

    assert TEXT not in sealed and runs.config_unseal(sealed) == CONFIG
    run.refresh_from_db()
    assert TEXT not in json.dumps(model_to_dict(run), default=str)
    assert run.result_summary == {"message_id": 4711, "chat_id": -1001234567890, "date": "2023-11-14T22:13:20+00:00"}


def test_a_run_is_executed_once_however_often_its_task_is_delivered(queued, fake_services):
    run, sealed = queued
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    first, second = perform(run, sealed), perform(run, sealed)

    assert (first.executed, first.run.status, first.run.attempts) == (True, "succeeded", 1)
    assert (second.executed, second.run.status) == (False, "succeeded")
    assert len(fake_services.log) == 1


def test_a_failed_run_is_not_executed_again_either(queued, fake_services):
    run, sealed = queued
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "chat_not_found"), status=400
    )

    assert perform(run, sealed).run.status == "failed"
    assert perform(run, sealed).executed is False
    assert len(fake_services.log) == 1


def test_a_run_left_running_by_a_dead_worker_is_executed_again(queued, fake_services):
    run, sealed = queued
    IntegrationRun.objects.filter(pk=run.pk).update(status="running", attempts=1)
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    performed = perform(run, sealed)

    assert (performed.executed, performed.run.status, performed.run.attempts) == (True, "succeeded", 2)


def test_a_message_that_surely_did_not_arrive_goes_back_to_the_queue(queued, fake_services):
    run, sealed = queued
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "too_many_requests"), status=429, headers={"Retry-After": "7"}
    )

    performed = perform(run, sealed, retry_allowed=True)

    assert performed.retry_in == 7
    run.refresh_from_db()
    assert (run.status, run.error_code, run.attempts, run.finished_at) == ("queued", "rate_limited", 1, None)


def test_out_of_retries_the_run_fails(queued, fake_services):
    run, sealed = queued
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "too_many_requests"), status=429
    )

    performed = perform(run, sealed, retry_allowed=False)

    assert performed.retry_in is None
    assert (performed.run.status, performed.run.error_code) == ("failed", "rate_limited")


def test_a_message_that_may_have_arrived_is_never_retried(queued, settings, silent_base_url, waits):
    run, sealed = queued
    point_services_at(settings, silent_base_url)

    performed = perform(run, sealed, retry_allowed=True)

    assert performed.retry_in is None
    assert (performed.run.status, performed.run.error_code) == ("failed", "timeout")
    assert waits == []


def test_a_config_that_cannot_be_unsealed_fails_the_run(queued, fake_services):
    run, _ = queued

    performed = perform(run, "not-a-fernet-token")

    assert (performed.run.status, performed.run.error_code) == ("failed", "internal_error")
    assert "cannot be decrypted" in performed.run.error_message
    assert fake_services.log == []


def test_an_unknown_run_is_ignored():
    performed = runs.integration_run_perform(run_id="6b1f8f8e-3d4b-4c4e-9a7e-1f0d2c3b4a59", sealed_config="x")

    assert (performed.run, performed.executed) == (None, False)


def test_an_integration_that_raises_is_a_recorded_failure(queued, monkeypatch, fake_services):
    from integrations.registry import registry

    run, sealed = queued

    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(type(registry.get("telegram.send_message")), "execute", explode)

    performed = perform(run, sealed)

    assert (performed.run.status, performed.run.error_code, performed.run.error_message) == (
        "failed",
        "internal_error",
        "The integration failed unexpectedly.",
    )
