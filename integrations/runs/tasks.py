"""Celery tasks of integration runs; they call `integrations.runs.services`.

The task names are the ones queued messages and the beat schedule carry, kept from before the
tasks moved here (a renamed task would leave messages already queued to no worker)."""

from celery import shared_task

from integrations.runs import services as runs


@shared_task(name="integrations.run_tasks.integration_run_execute", acks_late=True, ignore_result=True)
def integration_run_execute(run_id: str, sealed_config: str | None = None) -> str | None:
    """Execute one queued run. Late acknowledgement: a worker that dies mid-task leaves the
    message to another. Never executes twice when delivered twice or early: the run is claimed
    with a lease before executing (see `services.integration_run_perform`). A message that surely
    did not arrive is tried again later by a message scheduled here (or, if that one is lost
    too, by `recover_integration_runs`). `sealed_config` only comes with tasks queued before
    runs kept their config."""
    performed = runs.integration_run_perform(run_id=run_id, sealed_config=sealed_config)
    if performed.retry_in is not None:
        runs.integration_run_enqueue(run_id, countdown=performed.retry_in)
    return performed.run.status if performed.run is not None else None


@shared_task(name="integrations.run_tasks.recover_integration_runs", ignore_result=True)
def recover_integration_runs(limit: int = 500) -> int:
    """Beat: queue again the runs whose task was lost and those whose worker died."""
    return runs.runs_recover(limit=limit)
