from tests.integrations.providers.fakes import (  # noqa: F401  (fixtures)
    fake_services,
    outbound_settings,
    waits,
)
