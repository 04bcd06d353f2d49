"""The failures the network really produces, injected into every built-in integration
(table-driven): each ends in a normalized failure with the right code, never an exception,
and a refused credential is flagged for the admin."""

import dataclasses

import pytest
from werkzeug import Response

from integrations.models import Credential
from integrations.registry import registry
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, credential_for, fixture, point_services_at


@dataclasses.dataclass(frozen=True)
class Integration:
    id: str
    config: dict
    method: str
    path: str
    provider: str | None  # the credential a 401 flags (None: the service needs none)
    too_many_requests: dict  # the service's own 429 body
    unauthorized: dict  # the service's own 401 body
    server_error: dict | str


INTEGRATIONS = [
    Integration(
        id="telegram.send_message",
        config={"chat_id": -1001234567890, "text": "Device registered"},
        method="POST",
        path=f"/bot{TELEGRAM_TOKEN}/sendMessage",
        provider="telegram",
        too_many_requests=fixture("telegram", "too_many_requests") | {"parameters": {"retry_after": 3}},
        unauthorized=fixture("telegram", "unauthorized"),
        server_error=fixture("telegram", "internal_server_error"),
    ),
    Integration(
        id="openweathermap.current_weather",
        config={"city": "London"},
        method="GET",
        path="/data/2.5/weather",
        provider="openweathermap",
        too_many_requests=fixture("openweathermap", "too_many_requests"),
        unauthorized=fixture("openweathermap", "invalid_api_key"),
        server_error="<html>502 nginx</html>",
    ),
    Integration(
        id="exchangerate.latest",
        config={"base": "USD"},
        method="GET",
        path="/v6/latest/USD",
        provider=None,
        too_many_requests={"result": "error", "error-type": "quota-reached"},
        unauthorized={"result": "error", "error-type": "invalid-key"},
        server_error="Internal Server Error",
    ),
    Integration(
        id="github.repository",
        config={"repository": "octocat/Hello-World"},
        method="GET",
        path="/repos/octocat/Hello-World",
        provider="github",
        too_many_requests=fixture("github", "rate_limited"),
        unauthorized=fixture("github", "bad_credentials"),
        server_error={"message": "Server Error"},
    ),
]
IDS = [integration.id for integration in INTEGRATIONS]


@pytest.fixture(params=INTEGRATIONS, ids=IDS)
def integration(request, db):
    spec = request.param
    if spec.provider:
        credential_for(spec.provider)
    return spec


def execute(spec: Integration):
    return registry.get(spec.id).execute(dict(spec.config))


def test_connection_refused_is_a_connection_error(integration, settings, refused_base_url, waits):
    point_services_at(settings, refused_base_url)

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "connection_error"
    # Nothing arrived, so even a message is tried again (two attempts, one wait between).
    assert len(waits) == 1


def test_a_service_that_never_answers_is_a_timeout(integration, settings, silent_base_url, waits):
    point_services_at(settings, silent_base_url)

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "timeout"
    # A read is tried again; a message that may have arrived is not.
    assert len(waits) == (0 if integration.method == "POST" else 1)


def test_429_waits_as_retry_after_says_then_reports_rate_limited(integration, fake_services, waits):
    fake_services.expect_request(integration.path, method=integration.method).respond_with_json(
        integration.too_many_requests, status=429, headers={"Retry-After": "3"}
    )

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "rate_limited"
    assert result.error.retry_after == 3
    assert waits == [3]
    assert len(fake_services.log) == 2


def test_a_500_is_a_server_error(integration, fake_services):
    body = integration.server_error
    response = Response(body, status=500) if isinstance(body, str) else None
    handler = fake_services.expect_request(integration.path, method=integration.method)
    if response is not None:
        handler.respond_with_response(response)
    else:
        handler.respond_with_json(body, status=500)

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "server_error"
    # A read is retried; a message the service may have acted on is not sent again.
    assert len(fake_services.log) == (1 if integration.method == "POST" else 2)


@pytest.mark.parametrize("body", ["<html>Service temporarily unavailable</html>", '{"truncated": '])
def test_a_malformed_body_is_a_bad_response(integration, fake_services, body):
    fake_services.expect_request(integration.path, method=integration.method).respond_with_data(
        body, status=200, content_type="application/json"
    )

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "bad_response"


def test_a_json_body_of_another_shape_is_a_bad_response(integration, fake_services):
    fake_services.expect_request(integration.path, method=integration.method).respond_with_json(
        {"ok": True, "result": "unexpected"} if integration.method == "POST" else {"unexpected": True}
    )

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "bad_response"


def test_401_is_unauthorized_and_flags_the_credential_for_the_admin(integration, fake_services):
    fake_services.expect_request(integration.path, method=integration.method).respond_with_json(
        integration.unauthorized, status=401
    )

    result = execute(integration)

    assert not result.ok
    assert result.error.code == "unauthorized"
    assert len(fake_services.log) == 1  # never retried
    if integration.provider:
        credential = Credential.objects.get(provider=integration.provider)
        assert credential.needs_attention
        assert credential.attention_reason
        assert CREDENTIAL_SECRETS[integration.provider] not in credential.attention_reason


CREDENTIAL_SECRETS = {
    "telegram": TELEGRAM_TOKEN,
    "openweathermap": "owm-key-0123456789abcdef",
    "github": "ghp_FakeTokenForTests0123456789abcdef",
}
