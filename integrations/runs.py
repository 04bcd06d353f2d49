"""Running integrations: every execution (API, connection, admin) goes through these functions
and is recorded as an `IntegrationRun`.

Reads run at once (`integration_execute` returns their result). Side-effecting integrations run
in a Celery task: the config travels in the task message, encrypted (it holds message texts and
maybe secrets, which are never stored), and the worker calls `integration_run_perform`, which
executes a run at most once per delivery of its task: see that function.
"""

import dataclasses
import json
import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from config.errors import DomainError
from integrations import crypto
from integrations.models import IntegrationRun
from integrations.registry import (
    BaseIntegration,
    ErrorCode,
    IntegrationResult,
    UnknownIntegration,
    registry,
)

logger = logging.getLogger(__name__)

ERROR_MESSAGE_MAX_LENGTH = 500
SUMMARY_MAX_BYTES = 8 * 1024


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
    """The config as it travels to the worker: encrypted, so the broker holds no message
    text or secret in clear."""
    return crypto.encrypt(json.dumps(config, separators=(",", ":")))


def config_unseal(sealed: str) -> dict:
    return json.loads(crypto.decrypt(sealed, what="The config of an integration run"))


# -------------------------------------------------------------------------------- executing


def _user_or_none(user):
    return user if getattr(user, "pk", None) else None


def _call(integration: BaseIntegration, config: dict, *, owner, run: IntegrationRun) -> IntegrationResult:
    """Execute, turning anything the integration lets escape into a normalized failure."""
    from integrations.credentials import CredentialMissing
    from integrations.outbound import OutboundError

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
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "duration_ms",
            "error_code",
            "error_message",
            "source",
            "result_summary",
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
    creating it twice raises IntegrityError (see `integrations.connections`)."""
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
        run = IntegrationRun.objects.create(status=IntegrationRun.Status.QUEUED, **fields)
        sealed = config_seal(config)
        transaction.on_commit(lambda: _enqueue(run.id, sealed))
        logger.info("integration run queued", extra={"run_id": str(run.id), "integration": meta.id, "trigger": trigger})
        return RunOutcome(run=run, result=None)
    run = IntegrationRun.objects.create(
        status=IntegrationRun.Status.RUNNING, attempts=1, started_at=timezone.now(), **fields
    )
    started = time.perf_counter()
    result = _call(integration, config, owner=owner, run=run)
    _run_finish(run, integration, result, started)
    return RunOutcome(run=run, result=result)


def _enqueue(run_id, sealed: str) -> None:
    from integrations.run_tasks import integration_run_execute

    try:
        integration_run_execute.delay(str(run_id), sealed)
    except Exception:
        # The broker is down. The config exists only in this message, so the run cannot be
        # redispatched later: it fails now, visibly, rather than wait queued forever.
        logger.exception("integration run could not be queued", extra={"run_id": str(run_id)})
        IntegrationRun.objects.filter(pk=run_id, status=IntegrationRun.Status.QUEUED).update(
            status=IntegrationRun.Status.FAILED,
            finished_at=timezone.now(),
            error_code=ErrorCode.INTERNAL_ERROR,
            error_message="The task queue is unavailable; the run was not queued. Execute it again later.",
        )


def integration_run_perform(*, run_id: str, sealed_config: str, retry_allowed: bool = False) -> RunPerformed:
    """Execute a queued run, at most once however often its task is delivered.

    1. Lock the run; a finished run is left alone (a task delivered again does nothing). Mark it
       running, count the attempt, commit (so the API shows it running).
    2. Lock it again and execute while holding the lock: a second delivery of the task waits
       for the first to finish, then finds the run finished. The attempt number taken in step 1
       must still be ours, or another delivery took over between the steps.
    A worker that dies mid-call leaves the run "running" and its lock released: the redelivered
    task (late acknowledgement) executes it again (a message may then be sent twice only if the
    worker died after the service accepted it and before the run was recorded).
    A failure that surely did not reach the service (connection refused, circuit open, 429) puts
    the run back to queued when `retry_allowed`, and says when to try again.
    """
    with transaction.atomic():
        run = IntegrationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            logger.warning("integration run not found", extra={"run_id": str(run_id)})
            return RunPerformed(run=None, executed=False)
        if run.is_final:
            logger.info(
                "integration run already finished; not executed again",
                extra={"run_id": str(run.id), "integration": run.integration_id, "status": run.status},
            )
            return RunPerformed(run=run, executed=False)
        if run.status == IntegrationRun.Status.RUNNING:
            logger.warning(
                "integration run was interrupted; executing it again",
                extra={"run_id": str(run.id), "integration": run.integration_id, "attempt": run.attempts},
            )
        run.status = IntegrationRun.Status.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.save(update_fields=["status", "attempts", "started_at"])
        attempt = run.attempts

    with transaction.atomic():
        run = IntegrationRun.objects.select_for_update().get(pk=run.pk)
        if run.status != IntegrationRun.Status.RUNNING or run.attempts != attempt:
            return RunPerformed(run=run, executed=False)
        started = time.perf_counter()
        try:
            integration = registry.get(run.integration_id)
            config = config_unseal(sealed_config)
        except (UnknownIntegration, crypto.DecryptionFailed) as exc:
            _run_finish(run, None, IntegrationResult.failure(ErrorCode.INTERNAL_ERROR, exc.detail), started)
            return RunPerformed(run=run, executed=False)
        result = _call(integration, config, owner=run.owner, run=run)
        if not result.ok and result.error.not_delivered and retry_allowed:
            run.status = IntegrationRun.Status.QUEUED
            run.error_code = str(result.error.code)[:64]
            run.error_message = result.error.message[:ERROR_MESSAGE_MAX_LENGTH]
            run.duration_ms = round((time.perf_counter() - started) * 1000)
            run.save(update_fields=["status", "error_code", "error_message", "duration_ms"])
            logger.warning(
                "integration run will be retried",
                extra={
                    "run_id": str(run.id),
                    "integration": run.integration_id,
                    "error_code": run.error_code,
                    "attempt": run.attempts,
                    "retry_after": result.error.retry_after,
                },
            )
            return RunPerformed(run=run, executed=True, retry_in=result.error.retry_after or 0)
        _run_finish(run, integration, result, started)
    return RunPerformed(run=run, executed=True)


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
