"""Reads of integration runs, shared by the API and the admin."""

from django.db.models import QuerySet

from config.errors import NotFound
from integrations.models import IntegrationRun


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
