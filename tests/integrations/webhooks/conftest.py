"""Fixtures of the webhook tests: endpoints created through the services, a client that posts
raw bytes like a sender and a recorder of `webhook_received` (the Celery worker is
tests/workers.py's)."""

import pathlib
import threading

import pytest
from django.urls import reverse

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
