"""Connections: device and webhook events → integration runs, configured in the admin.

The event handlers run inside the worker's transaction that hands the event on (device events)
or processes the delivery (webhooks). They only create run rows; the integration itself runs in
the run task after commit (`integrations.runs`); `receivers.py` hands them the events. One run
per connection and event (a unique constraint), so an event task that is retried or delivered
twice never runs a connection twice.
"""

import logging
import re
from typing import Any

from django.db import IntegrityError, transaction

from config.errors import DomainError
from devices.models import Owner
from integrations.connections.selectors import connections_matching
from integrations.models import Connection, IntegrationRun
from integrations.registry import ErrorCode, registry
from integrations.runs import services as runs

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")
_ONLY_PLACEHOLDER = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}\s*$")

# Fields a template can use, per event; shown in the admin and used to check templates on save.
DEVICE_EVENT_FIELDS = {
    "event": "device.registered",
    "device_id": "0123456789abcdef",
    "owner": "acme",
    "city": "Berlin",
    "measurement_type": "temperature",
    "sensor_model": "DHT22",
    # Both null when the device's location is unknown (see `template_render`).
    "latitude": 52.52,
    "longitude": 13.405,
    "at": "2026-01-01T00:00:00+00:00",
    "is_new": True,
    "version": 2,
    "current_version": 2,
    "old": {"send_interval": 60, "qos": 1},
    "new": {"send_interval": 30, "qos": 1},
    "source": "admin",
    "last_seen": "2026-01-01T00:00:00+00:00",
}
WEBHOOK_EVENT_FIELDS = {
    "event": "webhook.received",
    "endpoint": "github",
    "delivery_id": "1",
    "payload": {},
}


class TemplateError(DomainError):
    pass


class _Lenient(dict):
    """Sample context for checking a webhook template: any payload path renders."""

    def __missing__(self, key):
        return "sample"


def _lookup(context: dict, path: str, *, lenient: bool) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif lenient:
            return "sample"
        else:
            raise TemplateError(f"The event has no field '{path}'.")
    return value


def template_render(template: Any, context: dict, *, lenient: bool = False) -> Any:
    """The config with every `{{ field }}` replaced by the event's value. A string that is one
    placeholder keeps the value's type (numbers, ids, null); placeholders inside text become
    text, a null one "unknown" (a device's location may be unknown) rather than Python's "None"."""
    if isinstance(template, dict):
        return {key: template_render(value, context, lenient=lenient) for key, value in template.items()}
    if isinstance(template, list):
        return [template_render(value, context, lenient=lenient) for value in template]
    if not isinstance(template, str):
        return template
    whole = _ONLY_PLACEHOLDER.match(template)
    if whole:
        return _lookup(context, whole.group(1), lenient=lenient)
    return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(context, m.group(1), lenient=lenient)), template)


def _as_text(value: Any) -> str:
    return "unknown" if value is None else str(value)


def connection_config_check(*, event: str, integration_id: str, config_template: Any) -> None:
    """Refuse, at save time, a connection whose config could never be valid: an unknown
    integration, a placeholder the event does not have, or a config the schema rejects."""
    if integration_id not in registry:
        raise TemplateError(f"Unknown integration '{integration_id}'.", field="integration_id")
    if not isinstance(config_template, dict):
        raise TemplateError("The config must be a JSON object.", field="config_template")
    is_webhook = event == Connection.Event.WEBHOOK_RECEIVED
    sample = {**WEBHOOK_EVENT_FIELDS, "payload": _Lenient()} if is_webhook else dict(DEVICE_EVENT_FIELDS)
    try:
        config = template_render(config_template, sample, lenient=is_webhook)
    except TemplateError as exc:
        raise TemplateError(exc.detail, field="config_template") from None
    try:
        runs.config_validate(registry.get(integration_id), config)
    except runs.ConfigInvalid as exc:
        problems = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in exc.errors.items())
        raise TemplateError(f"The config does not fit the integration: {problems}", field="config_template") from None


def _connection_run(connection: Connection, *, context: dict, event_key: str, owner: Owner | None) -> None:
    fields = {
        "owner": connection.owner or owner,
        "trigger": IntegrationRun.Trigger.CONNECTION,
        "connection": connection,
        "event_key": event_key,
    }
    try:
        with transaction.atomic():
            config = template_render(connection.config_template, context)
            runs.integration_execute(integration_id=connection.integration_id, config=config, background=True, **fields)
    except IntegrityError:
        logger.info(
            "connection already ran for this event", extra={"connection": connection.pk, "event_key": event_key}
        )
    except DomainError as exc:
        # A template the event cannot fill, or a config the schema rejects: record why.
        message = f"{exc.detail} {exc.errors}" if isinstance(exc, runs.ConfigInvalid) else exc.detail
        try:
            with transaction.atomic():
                runs.integration_run_record_failure(
                    integration_id=connection.integration_id,
                    code=ErrorCode.INVALID_CONFIG,
                    message=message,
                    **fields,
                )
        except IntegrityError:
            pass


def connections_run_for_event(
    *,
    event: str,
    context: dict,
    event_key: str,
    owner_slug: str | None = None,
    measurement_type_slug: str | None = None,
    webhook_endpoint=None,
) -> int:
    """Create one run for every active connection that matches the event; returns how many."""
    matching = list(
        connections_matching(
            event=event,
            owner_slug=owner_slug,
            measurement_type_slug=measurement_type_slug,
            webhook_endpoint=webhook_endpoint,
        )
    )
    owner = Owner.objects.filter(slug=owner_slug).first() if owner_slug and matching else None
    for connection in matching:
        _connection_run(connection, context=context, event_key=event_key, owner=owner)
    return len(matching)
