"""Reads of the integration registry, shared by the API and the admin."""

from integrations.registry.base import BaseIntegration, registry


def integration_list(*, category: str | None = None) -> list[BaseIntegration]:
    integrations = registry.all()
    if category:
        integrations = [i for i in integrations if i.metadata.category == category]
    return integrations


def integration_get(*, integration_id: str) -> BaseIntegration:
    return registry.get(integration_id)
