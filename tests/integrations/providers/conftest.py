from tests.integrations.providers.fakes import (  # noqa: F401  (fixtures)
    fake_services,
    outbound_settings,
    refused_base_url,
    silent_base_url,
    waits,
)
