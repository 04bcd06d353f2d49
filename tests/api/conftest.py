"""Fixtures of the API-wide tests, and the count of what the fuzz sent, for the summary at the end."""

import collections
import re

import pytest

from tests.integrations.providers.fakes import credential_for, fixture, point_services_at

FUZZED: collections.Counter = collections.Counter()


@pytest.fixture
def services_that_answer(settings, httpserver):
    """Every third-party service the integrations call answers as it does when all is well, so
    that a 5xx can only be the hub's own (a failing upstream is the providers' tests' subject)."""
    point_services_at(settings, httpserver.url_for("").rstrip("/"))
    answers = {
        r"/data/2\.5/weather": fixture("openweathermap", "current_weather_london"),
        r"/v6/latest/.*": fixture("exchangerate", "latest_usd"),
        r"/repos/[^/]+/[^/]+": fixture("github", "repository_hello_world"),
        r"/bot[^/]+/sendMessage": fixture("telegram", "send_message_ok"),
    }
    for path, body in answers.items():
        httpserver.expect_request(re.compile(path)).respond_with_json(body)
    for provider in ("openweathermap", "github", "telegram"):
        credential_for(provider)


def pytest_terminal_summary(terminalreporter):
    if FUZZED:
        operations = {label for label, _ in FUZZED}
        terminalreporter.write_line(
            f"OpenAPI fuzz: {len(operations)} operations, {sum(FUZZED.values())} generated cases "
            f"({', '.join(f'{caller} {n}' for caller, n in _per_caller().items())})"
        )


def _per_caller() -> dict[str, int]:
    counts: collections.Counter = collections.Counter()
    for (_, caller), n in FUZZED.items():
        counts[caller] += n
    return dict(counts)
