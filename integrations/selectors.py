"""Reads of the integrations layer, shared by the API and the admin. One section per concern."""

from django.db.models import QuerySet

from config.errors import DomainError, NotFound
from integrations.models import IntegrationRun
from integrations.registry import BaseIntegration, registry

# ---------------------------------------------------------------------------- registry and runs

WEATHER_INTEGRATION = "openweathermap.current_weather"


def integration_list(*, category: str | None = None) -> list[BaseIntegration]:
    integrations = registry.all()
    if category:
        integrations = [i for i in integrations if i.metadata.category == category]
    return integrations


def integration_get(*, integration_id: str) -> BaseIntegration:
    return registry.get(integration_id)


def run_list(*, filters: dict | None = None) -> QuerySet[IntegrationRun]:
    filters = filters or {}
    runs = IntegrationRun.objects.select_related("owner")
    if filters.get("integration"):
        runs = runs.filter(integration_id=filters["integration"])
    if filters.get("status"):
        runs = runs.filter(status=filters["status"])
    if filters.get("requested_by") is not None:
        runs = runs.filter(requested_by=filters["requested_by"])
    return runs.order_by("-created_at")


def run_get(*, run_id) -> IntegrationRun:
    run = IntegrationRun.objects.select_related("owner").filter(pk=run_id).first()
    if run is None:
        raise NotFound("Integration run not found.")
    return run


def weather_current(*, city: str) -> dict:
    """`{city, temperature, description, source}` for a city, through the weather integration
    (cached by the outbound layer, as the original lab's endpoint was). Not recorded as a run:
    this is a read-through endpoint, hit far more often than integrations are executed."""
    from integrations.runs import ConfigInvalid, IntegrationFailed, config_validate

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
