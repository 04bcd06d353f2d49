"""Processing accepted deliveries: a real Celery worker on the Redis broker sends
`webhook_received` once per delivery, records failures, and reprocessing picks them up."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.webhooks import processing
from integrations.webhooks.signals import webhook_received
from integrations.webhooks.tasks import process_webhook_deliveries, redispatch_unprocessed_deliveries
from tests.integrations.webhooks.conftest import accepted_delivery, fixture_body, make_endpoint
from tests.workers import wait_until

PUSH = fixture_body("github_push.json")


def processed(pk: int) -> bool:
    return WebhookDelivery.objects.filter(pk=pk, processed=True).exists()


def written_pk(endpoint, response) -> int:
    """The accepted row's pk, once written (by the test's drain or the worker's)."""
    wait_until(lambda: accepted_delivery(endpoint, response) is not None)
    return accepted_delivery(endpoint, response).pk


@pytest.mark.usefixtures("celery_worker")
class TestWithWorker:
    def test_accepted_delivery_is_processed_by_the_worker_and_signalled_once(self, post_webhook, received):
        endpoint = make_endpoint("github")
        response = post_webhook(endpoint, PUSH, drain=False)
        assert response.status_code == 202
        pk = written_pk(endpoint, response)
        wait_until(lambda: processed(pk))
        delivery = WebhookDelivery.objects.get(pk=pk)
        assert delivery.processed_at is not None and delivery.attempts == 1 and delivery.error == ""
        assert received == [(pk, json.loads(PUSH))]

    def test_a_task_delivered_twice_does_not_signal_twice(self, post_webhook, received, finished_tasks):
        endpoint = make_endpoint("hex_hmac")
        pk = written_pk(endpoint, post_webhook(endpoint, PUSH))
        wait_until(lambda: processed(pk))
        again = process_webhook_deliveries.delay([pk])
        wait_until(lambda: again.id in finished_tasks)
        assert received == [(pk, json.loads(PUSH))]
        assert WebhookDelivery.objects.get(pk=pk).attempts == 1

    def test_a_duplicate_is_not_processed_again(self, post_webhook, received, finished_tasks):
        endpoint = make_endpoint("standard_webhooks")
        pk = written_pk(endpoint, post_webhook(endpoint, PUSH, delivery="msg_1"))
        wait_until(lambda: processed(pk))
        assert post_webhook(endpoint, PUSH, delivery="msg_1").status_code == 200
        # Whatever the worker picks up next, the signal count stays at one.
        marker = process_webhook_deliveries.delay([pk])
        wait_until(lambda: marker.id in finished_tasks)
        assert len(received) == 1

    def test_a_failing_subscriber_is_recorded_and_reprocessing_after_the_fix_processes_it(self, post_webhook, received):
        def broken(sender, **kwargs):
            raise RuntimeError("connection misconfigured")

        webhook_received.connect(broken, dispatch_uid="tests.webhooks.broken", weak=False)
        try:
            endpoint = make_endpoint("hex_hmac")
            pk = written_pk(endpoint, post_webhook(endpoint, PUSH))
            wait_until(lambda: WebhookDelivery.objects.get(pk=pk).attempts == 1)
        finally:
            webhook_received.disconnect(dispatch_uid="tests.webhooks.broken")
        delivery = WebhookDelivery.objects.get(pk=pk)
        assert not delivery.processed
        assert delivery.error == "RuntimeError: connection misconfigured"

        results = processing.deliveries_process(delivery_pks=[delivery.pk])

        assert results == {processing.ProcessResult.PROCESSED: 1}
        delivery.refresh_from_db()
        assert delivery.processed and delivery.error == "" and delivery.attempts == 2
        # The subscriber that did not fail ran twice, but its first run was rolled back with the failure.
        assert [pk for pk, _ in received] == [pk, pk]

    def test_lost_tasks_are_redispatched(self, received):
        endpoint = make_endpoint("hex_hmac")
        # As if the broker had been down when it arrived: recorded and accepted, never enqueued.
        lost = WebhookDelivery.objects.create(
            endpoint=endpoint,
            delivery_id="evt-lost",
            outcome=WebhookDelivery.Outcome.ACCEPTED,
            status_code=202,
            is_valid=True,
            body=PUSH.decode(),
            received_at=timezone.now() - dt.timedelta(minutes=5),
        )

        assert redispatch_unprocessed_deliveries() == 1

        wait_until(lambda: processed(lost.pk))
        assert received == [(lost.pk, json.loads(PUSH))]


@pytest.mark.django_db
class TestProcessService:
    def test_rejected_and_duplicate_deliveries_are_never_processed(self, post_webhook, received):
        endpoint = make_endpoint("hex_hmac")
        rejected = post_webhook(endpoint, PUSH, {"X-Signature": "00" * 32})
        assert rejected.status_code == 401
        delivery = WebhookDelivery.objects.get()
        assert processing.delivery_process(delivery_pk=delivery.pk) == processing.ProcessResult.NOT_ACCEPTED
        assert received == []

    def test_processing_a_processed_delivery_is_a_no_op(self, post_webhook, received):
        endpoint = make_endpoint("hex_hmac")
        pk = accepted_delivery(endpoint, post_webhook(endpoint, PUSH)).pk
        assert processing.delivery_process(delivery_pk=pk) == processing.ProcessResult.PROCESSED
        assert processing.delivery_process(delivery_pk=pk) == processing.ProcessResult.ALREADY_PROCESSED
        assert len(received) == 1

    def test_unknown_delivery(self):
        assert processing.delivery_process(delivery_pk=987654) == processing.ProcessResult.NOT_FOUND

    def test_failed_processing_is_not_redispatched_automatically(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        pk = accepted_delivery(endpoint, post_webhook(endpoint, PUSH)).pk
        WebhookDelivery.objects.filter(pk=pk).update(
            attempts=1, error="RuntimeError: boom", received_at=timezone.now() - dt.timedelta(minutes=5)
        )
        assert redispatch_unprocessed_deliveries() == 0
