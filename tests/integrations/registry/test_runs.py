"""Runs of side-effecting integrations: queued with their config sealed in the row until they are
final, claimed with a lease and executed at most once per attempt, retried only when the message
surely did not arrive, and recovered by the sweep when the broker lost their task or their
worker died."""

import datetime as dt
import json

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from integrations.models import IntegrationRun
from integrations.runs import services as runs
from tests.broker import queued_tasks
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture, point_services_at

pytestmark = pytest.mark.django_db

TEXT = "Device 0a1b2c3d4e5f6071 went offline"
CONFIG = {"chat_id": -1001234567890, "text": TEXT}
SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"
RUN_TASK = "integrations.run_tasks.integration_run_execute"


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """A queued telegram.send_message run whose task was never published (its enqueue discarded)."""
    credential_for("telegram")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        outcome = runs.integration_execute(
            integration_id="telegram.send_message", config=dict(CONFIG), trigger=IntegrationRun.Trigger.CONNECTION
        )
    assert outcome.result is None and len(enqueued) == 1
    return outcome.run


def perform(run):
    return runs.integration_run_perform(run_id=str(run.id))


def sent_ok(fake_services):
    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))


def age(run, **delta):
    """Move the run's due time into the past, as if that much time had passed."""
    IntegrationRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - dt.timedelta(**delta))


def test_a_side_effecting_integration_is_queued_not_executed(queued):
    assert (queued.status, queued.trigger, queued.attempts, queued.started_at) == ("queued", "connection", 0, None)
    assert queued.due_at is not None


def test_the_config_is_kept_only_encrypted_and_only_until_the_run_is_final(queued, fake_services):
    sent_ok(fake_services)
    queued.refresh_from_db()
    assert queued.config_sealed and TEXT not in queued.config_sealed
    assert runs.config_unseal(queued.config_sealed) == CONFIG

    perform(queued)

    queued.refresh_from_db()
    assert (queued.config_sealed, queued.due_at) == ("", None)
    assert TEXT not in json.dumps(model_to_dict(queued), default=str)
    assert queued.result_summary == {"message_id": 4711, "chat_id": -1001234567890, "date": "2023-11-14T22:13:20+00:00"}


def test_the_task_message_carries_only_the_run_id(queued):
    runs.integration_run_enqueue(queued.id)

    assert queued_tasks() == [(RUN_TASK, [str(queued.id)])]


def test_a_run_is_executed_once_however_often_its_task_is_delivered(queued, fake_services):
    sent_ok(fake_services)

    first, second = perform(queued), perform(queued)

    assert (first.executed, first.run.status, first.run.attempts) == (True, "succeeded", 1)
    assert (second.executed, second.run.status) == (False, "succeeded")
    assert len(fake_services.log) == 1


def test_a_failed_run_is_not_executed_again_either(queued, fake_services):
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "chat_not_found"), status=400
    )

    assert perform(queued).run.status == "failed"
    assert perform(queued).executed is False
    assert len(fake_services.log) == 1


def test_a_run_another_worker_holds_is_left_to_it(queued, fake_services):
    sent_ok(fake_services)
    lease_ends = timezone.now() + dt.timedelta(minutes=5)
    IntegrationRun.objects.filter(pk=queued.pk).update(status="running", attempts=1, due_at=lease_ends)

    performed = perform(queued)

    assert (performed.executed, performed.run.status, performed.run.attempts) == (False, "running", 1)
    assert runs.runs_recover() == 0
    assert fake_services.log == []


def test_a_run_left_running_by_a_dead_worker_is_recovered_once_its_lease_ends_and_executed_again(
    queued, fake_services, django_capture_on_commit_callbacks
):
    sent_ok(fake_services)
    IntegrationRun.objects.filter(pk=queued.pk).update(status="running", attempts=1)
    age(queued, seconds=1)  # the lease ran out

    with django_capture_on_commit_callbacks(execute=True):
        assert runs.runs_recover() == 1
    assert [args for _, args in queued_tasks()] == [[str(queued.id)]]
    performed = perform(queued)

    assert (performed.executed, performed.run.status, performed.run.attempts) == (True, "succeeded", 2)


def test_a_run_whose_task_was_lost_is_queued_again_by_the_sweep_once(queued, fake_services, settings):
    sent_ok(fake_services)
    age(queued, seconds=settings.INTEGRATIONS_RUN_RECOVER_AFTER_SECONDS + 1)

    assert runs.runs_recover() == 1
    # Re-armed: the next sweep leaves it alone while its task waits in the queue.
    assert runs.runs_recover() == 0
    assert perform(queued).run.status == "succeeded"


def test_a_run_queued_recently_is_not_touched_by_the_sweep(queued):
    assert runs.runs_recover() == 0


def test_a_message_that_surely_did_not_arrive_goes_back_to_the_queue_until_it_is_due(queued, fake_services):
    for _ in range(2):  # both attempts of the outbound call
        fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(
            fixture("telegram", "too_many_requests"), status=429, headers={"Retry-After": "7"}
        )
    fake_services.expect_ordered_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))

    performed = perform(queued)

    assert performed.retry_in == 7
    queued.refresh_from_db()
    assert (queued.status, queued.error_code, queued.attempts, queued.finished_at) == (
        "queued",
        "rate_limited",
        1,
        None,
    )
    assert dt.timedelta(seconds=6) < queued.due_at - timezone.now() <= dt.timedelta(seconds=7)
    early = perform(queued)  # a task delivered before the retry is due does nothing
    assert (early.executed, early.run.attempts) == (False, 1)
    age(queued, seconds=0)
    assert perform(queued).run.status == "succeeded"
    assert len(fake_services.log) == 3


def test_out_of_attempts_the_run_fails(queued, fake_services):
    IntegrationRun.objects.filter(pk=queued.pk).update(attempts=runs.MAX_ATTEMPTS - 1)
    fake_services.expect_request(SEND, method="POST").respond_with_json(
        fixture("telegram", "too_many_requests"), status=429
    )

    performed = perform(queued)

    assert performed.retry_in is None
    assert (performed.run.status, performed.run.error_code) == ("failed", "rate_limited")


def test_a_run_interrupted_every_time_gives_up_without_executing(queued, fake_services):
    IntegrationRun.objects.filter(pk=queued.pk).update(attempts=runs.MAX_ATTEMPTS)

    performed = perform(queued)

    assert (performed.executed, performed.run.status) == (False, "failed")
    assert performed.run.error_message.startswith(f"Gave up after {runs.MAX_ATTEMPTS} attempts.")
    assert fake_services.log == []


def test_a_message_that_may_have_arrived_is_never_retried(queued, settings, silent_base_url, waits):
    point_services_at(settings, silent_base_url)

    performed = perform(queued)

    assert performed.retry_in is None
    assert (performed.run.status, performed.run.error_code) == ("failed", "timeout")
    assert waits == []


def test_a_config_that_cannot_be_unsealed_fails_the_run(queued, fake_services):
    IntegrationRun.objects.filter(pk=queued.pk).update(config_sealed="not-a-fernet-token")

    performed = perform(queued)

    performed.run.refresh_from_db()
    assert (performed.run.status, performed.run.error_code) == ("failed", "internal_error")
    assert "cannot be decrypted" in performed.run.error_message
    assert fake_services.log == []


def test_a_task_queued_before_runs_kept_their_config_still_carries_it(queued, fake_services):
    sent_ok(fake_services)
    IntegrationRun.objects.filter(pk=queued.pk).update(config_sealed="")

    performed = runs.integration_run_perform(run_id=str(queued.id), sealed_config=runs.config_seal(CONFIG))

    assert performed.run.status == "succeeded"
    ((request, _),) = fake_services.log
    assert request.form["text"] == TEXT


def test_an_unknown_run_is_ignored():
    performed = runs.integration_run_perform(run_id="6b1f8f8e-3d4b-4c4e-9a7e-1f0d2c3b4a59")

    assert (performed.run, performed.executed) == (None, False)


def test_an_integration_that_raises_is_a_recorded_failure(queued, monkeypatch, fake_services):
    from integrations.registry import registry

    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(type(registry.get("telegram.send_message")), "execute", explode)

    performed = perform(queued)

    assert (performed.run.status, performed.run.error_code, performed.run.error_message) == (
        "failed",
        "internal_error",
        "The integration failed unexpectedly.",
    )
