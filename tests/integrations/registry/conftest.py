"""Fixtures of the registry tests: users with the integrations permissions, the fake services
of the provider tests, and a real Celery worker."""

import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from rest_framework.test import APIClient

from config.celery import app as celery_app
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


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Poll until the worker has done something; a deadline, not a speed requirement."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker in a thread, consuming this run's queue on the Redis broker."""
    celery_app.control.purge()
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def finished_tasks():
    """Ids of the tasks the worker has finished (there is no result backend to ask)."""
    done = []

    def on_postrun(task_id=None, **kwargs):
        done.append(task_id)

    task_postrun.connect(on_postrun, weak=False)
    yield done
    task_postrun.disconnect(on_postrun)
