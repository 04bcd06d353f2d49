"""The receiving URL keeps a per-process copy of its endpoint: cheap for senders, and still
exact for changes made in the same process."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.webhooks import endpoints
from tests.integrations.webhooks.conftest import make_endpoint

pytestmark = pytest.mark.django_db

BODY = b'{"action": "opened"}'


def test_a_known_endpoint_costs_no_query_at_all_on_later_deliveries(post_webhook):
    endpoint = make_endpoint()
    assert post_webhook(endpoint, BODY, delivery="first").status_code == 202

    with CaptureQueriesContext(connection) as queries:
        # The delivery goes to the inbox; the worker's drain writes it.
        assert post_webhook(endpoint, BODY, delivery="second", drain=False).status_code == 202

    assert [q["sql"] for q in queries] == []


def test_deactivating_an_endpoint_applies_at_once_in_this_process(post_webhook):
    endpoint = make_endpoint()
    assert post_webhook(endpoint, BODY, delivery="first").status_code == 202

    endpoints.endpoint_update(endpoint=endpoint, is_active=False)

    assert post_webhook(endpoint, BODY, delivery="second").status_code == 404


def test_a_new_secret_works_at_once_and_a_removed_one_stops(post_webhook):
    endpoint = make_endpoint()
    assert post_webhook(endpoint, BODY, delivery="first").status_code == 202
    old = endpoint.secrets.get()

    _, new_secret = endpoints.endpoint_secret_add(endpoint=endpoint)
    assert post_webhook(endpoint, BODY, secret=new_secret, delivery="second").status_code == 202

    endpoints.endpoint_secret_remove(secret=old)
    assert post_webhook(endpoint, BODY, delivery="third").status_code == 401


def test_the_copy_can_be_turned_off(post_webhook, settings):
    settings.WEBHOOKS_ENDPOINT_CACHE_SECONDS = 0
    endpoint = make_endpoint()
    assert post_webhook(endpoint, BODY, delivery="first").status_code == 202

    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(endpoint, BODY, delivery="second").status_code == 202

    assert any("integrations_webhookendpoint" in q["sql"] for q in queries)
