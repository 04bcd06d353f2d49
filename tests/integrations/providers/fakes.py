"""Fakes of the four services the built-in integrations call, shared by the provider and the
registry tests: pytest-httpserver answering with the fixtures captured from each service (in
`integrations/providers/<service>/fixtures/`), bare local sockets for connection errors and
timeouts, and an outbound client that records its waits instead of sleeping."""

import json
import pathlib

import pytest

from integrations.outbound import OutboundClient
from integrations.outbound import client as outbound_client
from integrations.secrets import services

PROVIDERS_DIR = pathlib.Path(__file__).resolve().parents[3] / "integrations" / "providers"
# The shape of a real bot token (the outbound layer masks this shape in its logs).
TELEGRAM_TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdefXYZ"
URL_SETTINGS = {
    "telegram": "INTEGRATIONS_TELEGRAM_API_URL",
    "openweathermap": "INTEGRATIONS_OPENWEATHERMAP_API_URL",
    "exchangerate": "INTEGRATIONS_EXCHANGERATE_API_URL",
    "github": "INTEGRATIONS_GITHUB_API_URL",
}


def fixture(service: str, name: str) -> dict:
    return json.loads((PROVIDERS_DIR / service / "fixtures" / f"{name}.json").read_text())


def fixture_bytes(service: str, name: str) -> bytes:
    return (PROVIDERS_DIR / service / "fixtures" / f"{name}.json").read_bytes()


def point_services_at(settings, base_url: str) -> None:
    for setting in URL_SETTINGS.values():
        setattr(settings, setting, base_url)


@pytest.fixture(autouse=True)
def outbound_settings(settings):
    """Short timeouts, two attempts, tiny backoff; a breaker that stays closed within a test."""
    settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS = 0.3
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 2
    settings.INTEGRATIONS_RETRY_BASE_WAIT_SECONDS = 0.01
    settings.INTEGRATIONS_RETRY_MAX_WAIT_SECONDS = 10
    settings.INTEGRATIONS_BREAKER_FAIL_MAX = 100
    return settings


@pytest.fixture
def waits(monkeypatch):
    """The process-wide outbound client, recording the seconds it would wait between attempts."""
    recorded: list[float] = []

    async def asleep(seconds):
        recorded.append(seconds)

    monkeypatch.setattr(outbound_client, "_default_client", OutboundClient(sleep=recorded.append, asleep=asleep))
    return recorded


@pytest.fixture
def fake_services(settings, httpserver, waits):
    """Every built-in integration talks to the local fake server."""
    point_services_at(settings, httpserver.url_for("").rstrip("/"))
    return httpserver


CREDENTIALS = {
    "telegram": {"strategy": "bearer", "secret": TELEGRAM_TOKEN},
    "openweathermap": {
        "strategy": "api_key",
        "api_key_in": "query",
        "api_key_name": "appid",
        "secret": "owm-key-0123456789abcdef",
    },
    "github": {"strategy": "bearer", "secret": "ghp_FakeTokenForTests0123456789abcdef"},
}


def credential_for(provider: str, *, owner=None, **overrides):
    """A credential stored through the service, as an admin would store it."""
    fields = {**CREDENTIALS[provider], **overrides}
    return services.credential_create(provider=provider, owner=owner, **fields)
