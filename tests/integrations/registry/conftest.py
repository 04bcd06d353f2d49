"""Fixtures of the registry tests: users with the integrations permissions and the fake services
of the provider tests (the Celery worker is tests/workers.py's)."""

import pytest
from rest_framework.test import APIClient

from integrations.runs import tasks as run_tasks  # noqa: F401  (registers the task with the worker)
from tests.factories import UserFactory
from tests.integrations.providers.fakes import (  # noqa: F401  (fixtures)
    fake_services,
    outbound_settings,
    waits,
)

EXECUTE = "integrations.execute_integration"
VIEW_RUNS = "integrations.view_integrationrun"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def executor(db):
    """A user who may execute integrations (and so see the runs they started)."""
    return UserFactory(permissions=[EXECUTE])


@pytest.fixture
def executor_client(executor):
    return client_for(executor)


@pytest.fixture
def user_client(db):
    """A signed-in user without any integrations permission."""
    return client_for(UserFactory())
