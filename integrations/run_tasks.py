"""Celery task that runs a side-effecting integration; it calls `integrations.runs`."""

from celery import shared_task

from integrations import runs

__all__ = ["integration_run_execute"]

MAX_RETRIES = 5
MAX_BACKOFF_SECONDS = 300
# Longer waits asked by a service are shortened: a countdown past the broker's visibility
# timeout (an hour) would have the message delivered twice.
MAX_COUNTDOWN_SECONDS = 1800


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES)
def integration_run_execute(self, run_id: str, sealed_config: str) -> str | None:
    """Execute one queued run. Late acknowledgement: a worker that dies mid-task leaves the
    message to another. Never sends twice when retried or delivered twice: the run row is
    locked and its status checked before executing (see `runs.integration_run_perform`).
    Retried only after failures that surely did not reach the service."""
    performed = runs.integration_run_perform(
        run_id=run_id, sealed_config=sealed_config, retry_allowed=self.request.retries < self.max_retries
    )
    if performed.retry_in is not None:
        countdown = performed.retry_in or min(MAX_BACKOFF_SECONDS, 5 * 2**self.request.retries)
        raise self.retry(countdown=min(countdown, MAX_COUNTDOWN_SECONDS))
    return performed.run.status if performed.run is not None else None
