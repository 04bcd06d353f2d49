"""Running integrations: every execution (API, connection, admin) goes through these functions
and is recorded as an `IntegrationRun`.

Reads run at once (`integration_execute` returns their result). Side-effecting integrations run
in a Celery task: the run row holds the config, encrypted (it holds message texts and maybe
secrets), until the run is final; the task message carries only the run's id. The worker calls
`integration_run_perform`, which claims the run with a lease, executes it outside any
transaction and records the outcome, so that a task delivered twice executes once. The broker
is not trusted for exactly-once or for delivery at all: `runs_recover` (beat) queues again every
run whose task was lost and every run whose worker died (its lease ran out). docs/reliability.md
says what bounds the recovery.
"""

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from config.errors import DomainError
from integrations.models import IntegrationRun
from integrations.registry import (
    BaseIntegration,
    ErrorCode,
    IntegrationResult,
    UnknownIntegration,
    registry,
)
from integrations.secrets import crypto

logger = logging.getLogger(__name__)

ERROR_MESSAGE_MAX_LENGTH = 500
SUMMARY_MAX_BYTES = 8 * 1024
# Attempts of one run, interrupted ones and retries after "not delivered" included.
MAX_ATTEMPTS = 6
MAX_BACKOFF_SECONDS = 300
# Longer waits asked by a service are shortened: the broker's visibility timeout must stay above
# the longest countdown, or a waiting message is handed out twice (checked by integrations.W004).
MAX_COUNTDOWN_SECONDS = 1800
# A task message may arrive a little before the time it was scheduled for, by the clocks.
_CLAIM_SLACK = dt.timedelta(seconds=2)


class ConfigInvalid(DomainError):
    """The config does not match the integration's schema: field errors keyed by JSON path."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The config does not match the integration's schema.", field="config")
        self.errors = errors

    def as_payload(self) -> dict:
        return {"config": self.errors}


class IntegrationFailed(DomainError):
    """A failed result turned into an API error (`{"detail": ...}` with the status of its code)."""

    def __init__(self, result: IntegrationResult):
        super().__init__(result.error.message)
        self.result = result
        self.status_code = result.error.http_status


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    run: IntegrationRun
    result: IntegrationResult | None  # None: queued for a worker


@dataclasses.dataclass(frozen=True)
class RunPerformed:
    run: IntegrationRun | None
    executed: bool  # False: the run was already done (or taken over, or gone)
    retry_in: float | None = None  # set: the run went back to queued; try again after this many seconds


# ------------------------------------------------------------------------------------ config


def _secret_prefixes(integration: BaseIntegration) -> tuple[str, ...]:
    return tuple(integration.metadata.secret_fields)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith((prefix + ".", prefix + "[")) for prefix in prefixes)


def config_validate(integration: BaseIntegration, config: Any) -> dict:
    """`config` if it matches the schema, else ConfigInvalid with every error keyed by the JSON
    path of the field ("$.chat_id"). Messages never repeat the value of a secret field."""
    if not isinstance(config, dict):
        raise ConfigInvalid({"$": ["Expected a JSON object."]})
    secret = _secret_prefixes(integration)
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        if message not in errors.setdefault(path, []):
            errors[path].append(message)

    validator = Draft202012Validator(integration.metadata.config_schema)
    for error in sorted(validator.iter_errors(config), key=lambda e: e.json_path):
        base = error.json_path
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    add(f"{base}.{name}", "This field is required.")
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in known:
                    add(f"{base}.{name}", "Unknown field.")
        elif _under(base, secret):
            add(base, f"Invalid value (fails '{error.validator}').")
        else:
            add(base, error.message)
    if errors:
        raise ConfigInvalid(dict(sorted(errors.items())))
    return config


def config_seal(config: dict) -> str:
    """The config as a queued run keeps it until it is final: encrypted, so neither the database
    nor a backup holds a message text or a secret in clear."""
    return crypto.encrypt(json.dumps(config, separators=(",", ":")))


def config_unseal(sealed: str) -> dict:
    return json.loads(crypto.decrypt(sealed, what="The config of an integration run"))


# -------------------------------------------------------------------------------- executing


def _user_or_none(user):
    return user if getattr(user, "pk", None) else None


def _call(integration: BaseIntegration, config: dict, *, owner, run: IntegrationRun) -> IntegrationResult:
    """Execute, turning anything the integration lets escape into a normalized failure."""
    from integrations.outbound import OutboundError
    from integrations.secrets.selectors import CredentialMissing

    context = {"run_id": str(run.id), "trigger": run.trigger}
    try:
        result = integration.execute(config, owner=owner, context=context)
    except OutboundError as exc:
        result = integration.failure_from(exc)
    except (CredentialMissing, crypto.DecryptionFailed) as exc:
        result = IntegrationResult.failure(ErrorCode.CREDENTIALS_MISSING, exc.detail)
    except DomainError as exc:
        result = IntegrationResult.failure(ErrorCode.INTERNAL_ERROR, exc.detail)
    except Exception:
        logger.exception("integration raised", extra={"integration": run.integration_id, "run_id": str(run.id)})
        result = IntegrationResult.failure(ErrorCode.INTERNAL_ERROR, "The integration failed unexpectedly.")
    if not isinstance(result, IntegrationResult):
        logger.error("integration returned no IntegrationResult", extra={"integration": run.integration_id})
        result = IntegrationResult.failure(ErrorCode.INTERNAL_ERROR, "The integration returned no result.")
    return result


def _summary(integration: BaseIntegration, result: IntegrationResult) -> dict:
    if not result.ok or result.result is None:
        return {}
    try:
        summary = integration.summarize(result.result)
        encoded = json.dumps(summary)
    except Exception:
        logger.exception("integration summary failed", extra={"integration": integration.metadata.id})
        return {}
    if not isinstance(summary, dict) or len(encoded) > SUMMARY_MAX_BYTES:
        return {"truncated": True}
    return summary


def _run_finish(
    run: IntegrationRun, integration: BaseIntegration | None, result: IntegrationResult, started: float
) -> None:
    run.status = IntegrationRun.Status.SUCCEEDED if result.ok else IntegrationRun.Status.FAILED
    run.finished_at = timezone.now()
    run.duration_ms = round((time.perf_counter() - started) * 1000)
    run.error_code = "" if result.ok else str(result.error.code)[:64]
    run.error_message = "" if result.ok else result.error.message[:ERROR_MESSAGE_MAX_LENGTH]
    run.source = result.source if result.ok else ""
    run.result_summary = _summary(integration, result) if integration is not None else {}
    run.config_sealed, run.due_at = "", None  # final: its config is no longer kept
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "duration_ms",
            "error_code",
            "error_message",
            "source",
            "result_summary",
            "config_sealed",
            "due_at",
        ]
    )
    logger.log(
        logging.INFO if result.ok else logging.WARNING,
        "integration run %s %s",
        run.integration_id,
        run.status,
        extra={
            "run_id": str(run.id),
            "integration": run.integration_id,
            "status": run.status,
            "trigger": run.trigger,
            "error_code": run.error_code,
            "duration_ms": run.duration_ms,
            "attempt": run.attempts,
            "source": run.source,
        },
    )


def integration_execute(
    *,
    integration_id: str,
    config: Any,
    owner=None,
    trigger: str = IntegrationRun.Trigger.API,
    requested_by=None,
    background: bool = False,
    connection=None,
    event_key: str = "",
) -> RunOutcome:
    """Validate `config` and run the integration: a read now (the outcome holds its result),
    a side-effecting integration — or any, with `background` — in a Celery task once the
    current transaction commits (the outcome's run is queued). Raises UnknownIntegration or
    ConfigInvalid before any run exists. A run of a `connection` for an `event_key` is unique:
    creating it twice raises IntegrityError (see `integrations.connections.services`)."""
    integration = registry.get(integration_id)
    config = config_validate(integration, config)
    meta = integration.metadata
    fields = {
        "integration_id": meta.id,
        "integration_version": meta.version,
        "owner": owner,
        "requested_by": _user_or_none(requested_by),
        "trigger": trigger,
        "connection": connection,
        "event_key": event_key,
    }
    if meta.side_effecting or background:
        run = IntegrationRun.objects.create(
            status=IntegrationRun.Status.QUEUED, config_sealed=config_seal(config), due_at=timezone.now(), **fields
        )
        transaction.on_commit(lambda: integration_run_enqueue(run.id), robust=True)
        logger.info("integration run queued", extra={"run_id": str(run.id), "integration": meta.id, "trigger": trigger})
        return RunOutcome(run=run, result=None)
    run = IntegrationRun.objects.create(
        status=IntegrationRun.Status.RUNNING, attempts=1, started_at=timezone.now(), **fields
    )
    started = time.perf_counter()
    result = _call(integration, config, owner=owner, run=run)
    _run_finish(run, integration, result, started)
    return RunOutcome(run=run, result=result)


def integration_run_enqueue(run_id, *, countdown: float | None = None) -> None:
    """Hand a queued run to the workers. A broker that is down loses nothing: the run stays
    queued, with its config, and `runs_recover` queues it again once it is due."""
    from integrations.runs.tasks import integration_run_execute

    try:
        integration_run_execute.apply_async((str(run_id),), countdown=countdown)
    except Exception:
        logger.exception("integration run could not be queued; recovery will", extra={"run_id": str(run_id)})


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.INTEGRATIONS_RUN_LEASE_SECONDS)


class _LeaseKept:
    """While a worker executes a run, it renews the run's lease every third of the lease, from a
    thread of its own. A worker that dies stops renewing, and the run is recovered once the lease
    runs out — however long a live worker's call may take, the lease can stay short."""

    def __init__(self, run_id, attempt: int):
        self.run_id, self.attempt = run_id, attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{run_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)

    def _renew(self) -> None:
        try:
            while not self._stop.wait(settings.INTEGRATIONS_RUN_LEASE_SECONDS / 3):
                try:
                    with transaction.atomic():
                        # Never waits on a lock: the row is only locked by this run's own steps.
                        ours = IntegrationRun.objects.select_for_update(skip_locked=True).filter(
                            pk=self.run_id, attempts=self.attempt, status=IntegrationRun.Status.RUNNING
                        )
                        IntegrationRun.objects.filter(pk__in=ours.values("pk")).update(due_at=timezone.now() + _lease())
                except DatabaseError:
                    logger.warning("integration run lease not renewed", extra={"run_id": str(self.run_id)})
        finally:
            connection.close()  # this thread's own connection


def _with_database_retry(write: Callable[[], RunPerformed]) -> RunPerformed:
    """Record an outcome even across a database restart: once the call has been made, losing
    its outcome would make recovery execute it again. Waits up to about 80 s, then gives up (the
    lease then runs out and the run is executed again: the only way one is done twice)."""
    delay = 0.5
    for attempt in range(1, 11):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if attempt == 10:
                raise
            logger.warning("integration run outcome not recorded yet: database unavailable", exc_info=True)
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 16)
    raise AssertionError("unreachable")


def _run_claim(run_id: str, sealed_config: str | None) -> IntegrationRun | RunPerformed:
    """Take a queued, due run for this attempt (status running, a lease, the attempt counted), or
    say why not: gone, final, running under another worker's lease, or a retry not due yet."""
    now = timezone.now()
    with transaction.atomic():
        run = IntegrationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            logger.warning("integration run not found", extra={"run_id": str(run_id)})
            return RunPerformed(run=None, executed=False)
        if run.status != IntegrationRun.Status.QUEUED or (run.due_at and run.due_at > now + _CLAIM_SLACK):
            logger.info(
                "integration run not claimable; not executed by this delivery",
                extra={"run_id": str(run.id), "integration": run.integration_id, "status": run.status},
            )
            return RunPerformed(run=run, executed=False)
        if run.attempts >= MAX_ATTEMPTS:
            reason = f"Gave up after {run.attempts} attempts."
            if run.error_message:
                reason += f" Last: {run.error_message}"
            _run_finish(run, None, IntegrationResult.failure(run.error_code or ErrorCode.INTERNAL_ERROR, reason), 0.0)
            return RunPerformed(run=run, executed=False)
        run.status = IntegrationRun.Status.RUNNING
        run.attempts += 1
        run.started_at = now
        run.due_at = now + _lease()
        if not run.config_sealed and sealed_config:
            run.config_sealed = sealed_config  # a task queued before runs kept their config
        run.save(update_fields=["status", "attempts", "started_at", "due_at", "config_sealed"])
    return run


def _run_conclude(
    run_id, attempt: int, integration: BaseIntegration | None, result: IntegrationResult, started: float
) -> RunPerformed:
    """Record what an attempt came to: final, or back to the queue when the message surely did
    not arrive (connection refused, circuit open, 429) and attempts remain."""
    with transaction.atomic():
        run = IntegrationRun.objects.select_for_update().get(pk=run_id)
        if run.attempts != attempt or run.is_final:
            logger.error(
                "integration run attempt outlived its lease: another attempt took over, outcome not recorded",
                extra={"run_id": str(run.id), "integration": run.integration_id, "attempt": attempt},
            )
            return RunPerformed(run=run, executed=True)
        if not result.ok and result.error.not_delivered and integration is not None and attempt < MAX_ATTEMPTS:
            wait = result.error.retry_after or min(MAX_BACKOFF_SECONDS, 5 * 2 ** (attempt - 1))
            wait = min(float(wait), MAX_COUNTDOWN_SECONDS)
            run.status = IntegrationRun.Status.QUEUED
            run.due_at = timezone.now() + dt.timedelta(seconds=wait)
            run.error_code = str(result.error.code)[:64]
            run.error_message = result.error.message[:ERROR_MESSAGE_MAX_LENGTH]
            run.duration_ms = round((time.perf_counter() - started) * 1000)
            run.save(update_fields=["status", "due_at", "error_code", "error_message", "duration_ms"])
            logger.warning(
                "integration run will be retried",
                extra={
                    "run_id": str(run.id),
                    "integration": run.integration_id,
                    "error_code": run.error_code,
                    "attempt": attempt,
                    "retry_in": wait,
                },
            )
            return RunPerformed(run=run, executed=True, retry_in=wait)
        _run_finish(run, integration, result, started)
    return RunPerformed(run=run, executed=True)


def integration_run_perform(*, run_id: str, sealed_config: str | None = None) -> RunPerformed:
    """Execute a queued run, at most once however often its task is delivered.

    1. Claim it (`_run_claim`): a run that is final, running under a live lease, or waiting for
       a later retry is left alone — a delivery of a task that is not its turn does nothing.
    2. Execute it holding no transaction or lock: only the lease says it is taken, renewed while
       the call lasts (`_LeaseKept`).
    3. Record the outcome (`_run_conclude`), retried across a database outage.
    A worker that dies between 1 and 3 leaves the run running; once its lease has run out,
    `runs_recover` queues it again and it is executed again — a message is then sent twice only
    if the worker died after the service accepted it and before the outcome was recorded.
    `sealed_config` is the config of a task queued before runs kept it themselves.
    """
    claimed = _run_claim(run_id, sealed_config)  # the database down: the task fails, the run stays queued
    if isinstance(claimed, RunPerformed):
        return claimed
    run, attempt = claimed, claimed.attempts
    started = time.perf_counter()
    try:
        integration = registry.get(run.integration_id)
        config = config_unseal(run.config_sealed)
    except (UnknownIntegration, crypto.DecryptionFailed) as exc:
        failure = IntegrationResult.failure(ErrorCode.INTERNAL_ERROR, exc.detail)
        _with_database_retry(lambda: _run_conclude(run.pk, attempt, None, failure, started))
        return RunPerformed(run=run, executed=False)
    with _LeaseKept(run.pk, attempt):
        result = _call(integration, config, owner=run.owner, run=run)
    return _with_database_retry(lambda: _run_conclude(run.pk, attempt, integration, result, started))


def runs_recover(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Queue again what the broker lost (beat, every INTEGRATIONS_RUN_RECOVER_SECONDS):
    - runs still queued INTEGRATIONS_RUN_RECOVER_AFTER_SECONDS after they were due (their task
      was never published, or lost with the broker);
    - runs whose lease ran out while running (their worker died): queued again, executed again.
    Each run found is re-armed (due now), so the next sweep leaves it alone while its task waits
    in a backlog; a duplicate task is harmless (the claim). Returns how many were queued."""
    now = now or timezone.now()
    late = now - dt.timedelta(seconds=settings.INTEGRATIONS_RUN_RECOVER_AFTER_SECONDS)
    unfinished = IntegrationRun.objects.select_for_update(skip_locked=True).order_by("due_at")
    with transaction.atomic():
        interrupted = list(
            unfinished.filter(status=IntegrationRun.Status.RUNNING, due_at__lt=now).values_list("pk", flat=True)[:limit]
        )
        lost = list(
            unfinished.filter(status=IntegrationRun.Status.QUEUED, due_at__lt=late).values_list("pk", flat=True)[:limit]
        )
        IntegrationRun.objects.filter(pk__in=interrupted + lost).update(status=IntegrationRun.Status.QUEUED, due_at=now)
        for run_id in interrupted + lost:
            transaction.on_commit(lambda run_id=run_id: integration_run_enqueue(run_id), robust=True)
    if interrupted or lost:
        logger.warning(
            "integration runs recovered",
            extra={
                "interrupted": len(interrupted),
                "lost": len(lost),
                "run_ids": [str(pk) for pk in interrupted + lost][:50],
            },
        )
    return len(interrupted) + len(lost)


def integration_run_record_failure(
    *, integration_id: str, code: str, message: str, owner=None, trigger: str, connection=None, event_key: str = ""
) -> IntegrationRun:
    """Record a run that could not start (e.g. a connection's template did not render), so the
    admin sees why nothing was sent."""
    integration = registry.get(integration_id) if integration_id in registry else None
    now = timezone.now()
    return IntegrationRun.objects.create(
        integration_id=integration_id,
        integration_version=integration.metadata.version if integration else "",
        owner=owner,
        trigger=trigger,
        status=IntegrationRun.Status.FAILED,
        finished_at=now,
        error_code=code,
        error_message=message[:ERROR_MESSAGE_MAX_LENGTH],
        connection=connection,
        event_key=event_key,
    )


WEATHER_INTEGRATION = "openweathermap.current_weather"


def weather_current(*, city: str) -> dict:
    """`{city, temperature, description, source}` for a city, through the weather integration
    (cached by the outbound layer, as the original lab's endpoint was). Not recorded as a run:
    this is a read-through endpoint, hit far more often than integrations are executed."""
    integration = registry.get(WEATHER_INTEGRATION)
    try:
        config = config_validate(integration, {"city": city.strip()})
    except ConfigInvalid as exc:
        raise DomainError(next(iter(exc.errors.values()))[0], field="city") from None
    result = integration.execute(config)
    if not result.ok:
        raise IntegrationFailed(result)
    data = result.result
    return {
        "city": data["city"],
        "temperature": data["temperature"],
        "description": data["description"],
        "source": result.source,
    }
