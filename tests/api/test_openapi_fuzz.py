"""schemathesis over the hub's own OpenAPI schema: every operation it publishes, generated cases
(valid and invalid), sent in-process to the WSGI application against the real database, cache
and broker, as three callers — a staff user with every permission, a user without any, and a
device with its key. Any 5xx, any response that breaks the published schema, any answer that is
not JSON where JSON is published and any request slower than a few seconds fails the test.

A new endpoint is fuzzed from its first day: it only has to be in the schema. `make fuzz` runs
more examples (FUZZ_EXAMPLES) with a random seed.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from config.tokens import api_token_issue
from config.wsgi import application
from tests.api.conftest import FUZZED
from tests.factories import OwnerFactory, UserFactory, register_device

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
RANDOM = os.environ.get("FUZZ_RANDOM", "") == "1"
SLOW_SECONDS = 3.0

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


def not_slow(ctx, response, case):
    assert response.elapsed < SLOW_SECONDS, f"{case.operation.label} took {response.elapsed:.1f} s"


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, not_slow]


@pytest.fixture
def in_test_transaction():
    """Requests go straight to the WSGI application, which closes the database connection when
    a request ends; Django's test client keeps it, so that every request runs inside the test's
    transaction. Do as it does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def callers(db, in_test_transaction, services_that_answer):
    owner = OwnerFactory(slug="acme")
    device = register_device(owner=owner)
    staff = UserFactory(is_staff=True, is_superuser=True)
    nobody = UserFactory()
    return {
        "staff": {"Authorization": f"Token {api_token_issue(user=staff, name='fuzz')}"},
        "nobody": {"Authorization": f"Token {api_token_issue(user=nobody, name='fuzz')}"},
        "device": {"Authorization": f"Device {device.key}", "X-Device-Id": device.device_id},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["staff", "nobody", "device"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds_under_generated_input(case, caller, callers):
    headers = dict(callers[caller])
    device_id = headers.pop("X-Device-Id", None)
    if device_id and "device_id" in (case.path_parameters or {}):
        case.path_parameters["device_id"] = device_id  # the device's own endpoints, with its key
    FUZZED[(case.operation.label, caller)] += 1
    case.call_and_validate(headers=headers, checks=CHECKS)
