"""Fixtures of the webhook tests: endpoints created through the services, a client that posts
raw bytes like a sender, a recorder of `webhook_received`, and a real Celery worker."""

import pathlib
import threading
import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.urls import reverse

from config.celery import app as celery_app
from integrations.models import WebhookDelivery
from integrations.webhooks import endpoints, persisting
from integrations.webhooks import tasks as webhook_tasks  # noqa: F401  (registers the tasks)
from integrations.webhooks.signals import webhook_received
from tests.integrations.webhooks import senders

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
SCHEMES = ["standard_webhooks", "github", "hex_hmac"]


def fixture_body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_endpoint(scheme: str = "hex_hmac", **kwargs):
    """An endpoint created through the service; `endpoint.secret` holds its raw secret."""
    kwargs.setdefault("name", f"{scheme} sender")
    endpoint, secret = endpoints.endpoint_create(scheme=scheme, **kwargs)
    endpoint.secret = secret
    return endpoint


def receive_url(endpoint) -> str:
    return reverse("webhook-receive", kwargs={"endpoint_token": endpoint.token})


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Poll until the worker has done something; a deadline, not a speed requirement."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


def accepted_delivery(endpoint, response) -> WebhookDelivery | None:
    """The accepted row of the delivery a 202 answered, once written."""
    delivery_id = response.json()["delivery_id"]
    return WebhookDelivery.objects.filter(endpoint=endpoint, delivery_id=delivery_id, outcome="accepted").first()


@pytest.fixture
def post_webhook(client):
    """Post raw body bytes to an endpoint, signed like its scheme's senders sign (or with the
    headers given); then, unless `drain=False`, write the inbox to the database as the worker's
    drain would."""

    def post(
        endpoint,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        secret: str | None = None,
        delivery: str | None = None,
        drain: bool = True,
    ):
        if headers is None:
            headers = senders.sign(endpoint.scheme, secret=secret or endpoint.secret, body=body, delivery=delivery)
        response = client.post(receive_url(endpoint), data=body, content_type="application/json", headers=headers)
        if drain:
            persisting.inbox_drain()
        return response

    return post


@pytest.fixture
def received():
    """Every `webhook_received` signal sent during the test, as (delivery pk, payload)."""
    calls = []
    lock = threading.Lock()

    def receiver(sender, endpoint, delivery, payload, **kwargs):
        with lock:
            calls.append((delivery.pk, payload))

    webhook_received.connect(receiver, dispatch_uid="tests.webhooks.received", weak=False)
    yield calls
    webhook_received.disconnect(dispatch_uid="tests.webhooks.received")


@pytest.fixture
def finished_tasks():
    """Ids of the tasks the worker has finished (there is no result backend to ask)."""
    done = []

    def on_postrun(task_id=None, **kwargs):
        done.append(task_id)

    task_postrun.connect(on_postrun, weak=False)
    yield done
    task_postrun.disconnect(on_postrun)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker in a thread, consuming this run's queue on the Redis broker."""
    celery_app.control.purge()
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker
