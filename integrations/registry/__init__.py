"""The integration registry's public surface: what a provider module under
`integrations/providers/` imports to define an integration (see `base.py` and
docs/integrations.md). The registry's reads are in `selectors.py`, its system check in
`checks.py`."""

from integrations.registry.base import (
    NOT_DELIVERED_CODES,
    PROVIDERS_PACKAGE,
    SECRET_KEYWORDS,
    BaseIntegration,
    Category,
    ErrorCode,
    IntegrationError,
    IntegrationMetadata,
    IntegrationRegistry,
    IntegrationResult,
    ResolvedSecret,
    UnknownIntegration,
    autodiscover,
    is_secret_schema,
    registry,
    secret_paths,
    upstream_message,
)

__all__ = [
    "NOT_DELIVERED_CODES",
    "PROVIDERS_PACKAGE",
    "SECRET_KEYWORDS",
    "BaseIntegration",
    "Category",
    "ErrorCode",
    "IntegrationError",
    "IntegrationMetadata",
    "IntegrationRegistry",
    "IntegrationResult",
    "ResolvedSecret",
    "UnknownIntegration",
    "autodiscover",
    "is_secret_schema",
    "registry",
    "secret_paths",
    "upstream_message",
]
