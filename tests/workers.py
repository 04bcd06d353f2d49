"""A real Celery worker for the tests that need one, and ways to wait for it.

The fixtures are made available to the integrations tests by tests/integrations/conftest.py;
tests/devices/test_events.py keeps its own worker (it records every task's return value).
"""

import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from config.celery import app as celery_app


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
