"""Admin of the integrations layer, one module per concern."""

from integrations.admin import connections, credentials, runs, settings, webhooks  # noqa: F401
