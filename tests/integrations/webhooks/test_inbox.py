"""The inbox: deliveries are answered after one Redis round trip, wait in a stream on the real
broker's Redis, and are written to the database in batches by a drain — each entry once, even
when a drain dies halfway, and never processed twice."""

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.webhooks import endpoints, inbox, persisting, receiving, records
from tests.broker import queued_tasks
from tests.concurrency import all_at_once
from tests.integrations.webhooks import senders
from tests.integrations.webhooks.conftest import accepted_delivery, make_endpoint, receive_url
from tests.metrics import sample, scrape

pytestmark = pytest.mark.django_db

Outcome = WebhookDelivery.Outcome
BODY = b'{"event": "order.paid", "data": {"order_id": 7}}'
DRAIN_TASK = "integrations.webhooks.tasks.drain_webhook_inbox"
PROCESS_TASK = "integrations.webhooks.tasks.process_webhook_deliveries"


@pytest.fixture
def box() -> inbox.RedisInbox:
    return inbox.inbox_get()


def tasks_named(name: str) -> list[list]:
    return [args for task, args in queued_tasks() if task == name]


class TestReceiving:
    def test_an_accepted_delivery_waits_in_the_inbox_and_a_drain_is_scheduled(self, post_webhook, box):
        endpoint = make_endpoint("standard_webhooks")

        response = post_webhook(endpoint, BODY, delivery="msg_1", drain=False)

        assert response.status_code == 202
        assert box.waiting() == 1
        assert not WebhookDelivery.objects.exists()
        assert len(tasks_named(DRAIN_TASK)) == 1

    def test_one_drain_is_scheduled_per_pass_not_per_delivery(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        for n in range(5):
            post_webhook(endpoint, BODY, delivery=f"evt_{n}", drain=False)
        assert len(tasks_named(DRAIN_TASK)) == 1

        persisting.inbox_drain()  # a drain unschedules itself before it reads
        post_webhook(endpoint, BODY, delivery="evt_after", drain=False)

        assert len(tasks_named(DRAIN_TASK)) == 2

    def test_the_drain_writes_the_deliveries_and_enqueues_their_processing_once_per_batch(
        self, post_webhook, box, django_capture_on_commit_callbacks
    ):
        endpoint = make_endpoint("hex_hmac")
        for n in range(3):
            post_webhook(endpoint, BODY, delivery=f"evt_{n}", drain=False)

        with django_capture_on_commit_callbacks(execute=True):
            assert persisting.inbox_drain() == 3

        rows = WebhookDelivery.objects.filter(endpoint=endpoint, outcome=Outcome.ACCEPTED)
        assert sorted(rows.values_list("delivery_id", flat=True)) == ["evt_0", "evt_1", "evt_2"]
        assert box.waiting() == 0
        assert tasks_named(PROCESS_TASK) == [[sorted(rows.values_list("pk", flat=True))]]

    def test_rejected_deliveries_go_through_the_inbox_too_and_schedule_no_processing(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")

        assert post_webhook(endpoint, BODY, {"X-Signature": "00" * 32}).status_code == 401

        assert WebhookDelivery.objects.get().outcome == Outcome.BAD_SIGNATURE
        assert tasks_named(PROCESS_TASK) == []

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_copies_of_one_delivery_are_accepted_once(self, box):
        endpoint = make_endpoint("standard_webhooks")
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY, delivery="msg_race")

        def send():
            response = Client().post(receive_url(endpoint), data=BODY, content_type="application/json", headers=headers)
            return response.status_code

        statuses = all_at_once(send)
        persisting.inbox_drain()

        assert sorted(statuses) == [200] * 7 + [202]
        outcomes = sorted(WebhookDelivery.objects.values_list("outcome", flat=True))
        assert outcomes == [Outcome.ACCEPTED] + [Outcome.DUPLICATE] * 7
        duplicate = WebhookDelivery.objects.filter(outcome=Outcome.DUPLICATE).first()
        assert duplicate.status_code == 200 and duplicate.is_valid

    def test_an_id_resent_after_the_dedupe_window_is_recorded_as_a_duplicate_and_not_processed(
        self, post_webhook, box, django_capture_on_commit_callbacks
    ):
        endpoint = make_endpoint("github")
        with django_capture_on_commit_callbacks() as processing_first:
            first = post_webhook(endpoint, BODY, delivery="gh-1")
        box.forget_seen(f"{endpoint.pk}:gh-1")  # as if the window had passed

        with django_capture_on_commit_callbacks() as processing_late:
            late = post_webhook(endpoint, BODY, delivery="gh-1")

        # The inbox no longer knew the id, so the sender was told 202; the database did.
        assert (first.status_code, late.status_code) == (202, 202)
        late_row = WebhookDelivery.objects.get(endpoint=endpoint, outcome=Outcome.DUPLICATE)
        assert late_row.status_code == 202 and late_row.error == persisting.LATE_DUPLICATE_ERROR
        assert accepted_delivery(endpoint, first) is not None
        assert (len(processing_first), len(processing_late)) == (1, 0)

    def test_the_dedupe_window_covers_the_endpoint_tolerance_at_least(self, post_webhook, box, settings):
        settings.WEBHOOKS_DEDUP_WINDOW_SECONDS = 1
        endpoint = make_endpoint("standard_webhooks", tolerance_seconds=900)
        post_webhook(endpoint, BODY, delivery="msg_1", drain=False)
        ttl = box.client.ttl(f"{box.seen_prefix}{endpoint.pk}:msg_1")
        assert 890 < ttl <= 900

    def test_the_request_makes_one_redis_round_trip_and_no_query(self, post_webhook, box, monkeypatch):
        endpoint = make_endpoint("hex_hmac")
        post_webhook(endpoint, BODY, delivery="warm")  # endpoint cached, drain scheduled
        commands = []
        execute = box.client.execute_command
        monkeypatch.setattr(box.client, "execute_command", lambda *a, **k: commands.append(a[0]) or execute(*a, **k))

        with CaptureQueriesContext(connection) as queries:
            assert post_webhook(endpoint, BODY, delivery="evt_1", drain=False).status_code == 202

        assert commands == ["EVALSHA"]
        assert len(queries) == 0

    def test_a_full_inbox_answers_503_with_retry_after_and_marks_nothing_seen(self, post_webhook, box, settings):
        settings.WEBHOOKS_INBOX_MAX_WAITING = 2
        endpoint = make_endpoint("standard_webhooks")
        for n in range(2):
            assert post_webhook(endpoint, BODY, delivery=f"msg_{n}", drain=False).status_code == 202

        refused = post_webhook(endpoint, BODY, delivery="msg_2", drain=False)
        forged = post_webhook(endpoint, BODY, {"webhook-id": "x", "webhook-timestamp": "1"}, drain=False)

        assert (refused.status_code, forged.status_code) == (503, 503)
        assert refused["Retry-After"] == str(receiving.InboxFull.retry_after_seconds)
        assert refused.json() == {"detail": "Too many deliveries are waiting to be recorded; retry later."}
        assert box.waiting() == 2
        # Once the worker caught up, the sender's retry is accepted: its id was not burnt.
        persisting.inbox_drain()
        assert post_webhook(endpoint, BODY, delivery="msg_2").status_code == 202
        assert WebhookDelivery.objects.filter(outcome=Outcome.ACCEPTED).count() == 3

    def test_inbox_unreachable_is_503_and_the_sender_retries(self, settings, client):
        endpoint = make_endpoint("hex_hmac")
        settings.WEBHOOKS_INBOX_URL = "redis://127.0.0.1:1/0"  # nothing listens there
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY)

        response = client.post(receive_url(endpoint), data=BODY, content_type="application/json", headers=headers)

        assert response.status_code == 503
        assert response.json() == {"detail": "The delivery could not be recorded; retry later."}


class TestDraining:
    def test_entries_of_a_drain_that_died_before_acknowledging_are_written_once(self, post_webhook, box, monkeypatch):
        endpoint = make_endpoint("hex_hmac")
        for n in range(3):
            post_webhook(endpoint, BODY, delivery=f"evt_{n}", drain=False)
        # A drain wrote them and died before its XACK: they stay pending for its consumer.
        entries = box.claim(count=10)
        persisting.deliveries_write(entries)
        assert box.waiting() == 3

        monkeypatch.setattr(inbox, "CLAIM_IDLE_MS", 0)  # the dead consumer's entries are now stale
        assert persisting.inbox_drain() == 3

        assert WebhookDelivery.objects.count() == 3
        assert box.waiting() == 0

    def test_writing_the_same_entries_twice_is_a_no_op(self, post_webhook, box):
        endpoint = make_endpoint("hex_hmac")
        post_webhook(endpoint, BODY, delivery="evt_1", drain=False)
        entries = box.claim(count=10)

        first = persisting.deliveries_write(entries)
        again = persisting.deliveries_write(entries)

        assert WebhookDelivery.objects.count() == 1
        assert first.accepted_pks == again.accepted_pks  # processing them again is the no-op
        assert again.late_duplicates == []

    def test_deliveries_of_an_endpoint_deleted_meanwhile_are_dropped_not_stuck(self, post_webhook, box, caplog):
        kept, deleted = make_endpoint("hex_hmac", name="kept"), make_endpoint("hex_hmac", name="deleted")
        post_webhook(kept, BODY, delivery="evt_kept", drain=False)
        post_webhook(deleted, BODY, delivery="evt_gone", drain=False)
        endpoints.endpoint_delete(endpoint=deleted)

        with caplog.at_level(logging.WARNING, logger="integrations.webhooks.persisting"):
            assert persisting.inbox_drain() == 2

        assert list(WebhookDelivery.objects.values_list("delivery_id", flat=True)) == ["evt_kept"]
        assert box.waiting() == 0
        assert "not written" in caplog.text

    def test_an_unreadable_entry_is_logged_and_skipped(self, post_webhook, box, caplog):
        endpoint = make_endpoint("hex_hmac")
        box.client.xadd(box.stream, {"r": "not json"})
        post_webhook(endpoint, BODY, delivery="evt_1", drain=False)

        with caplog.at_level(logging.ERROR, logger="integrations.webhooks.inbox"):
            assert persisting.inbox_drain() == 2

        assert WebhookDelivery.objects.get().delivery_id == "evt_1"
        assert box.waiting() == 0
        assert "unreadable" in caplog.text

    def test_an_entry_the_database_refuses_is_set_aside_and_the_others_are_written(self, post_webhook, box, caplog):
        endpoint = make_endpoint("hex_hmac")
        post_webhook(endpoint, BODY, delivery="evt_good", drain=False)
        refused = records.inbox_record(
            endpoint=endpoint,
            headers={},
            body=BODY,
            delivery_id="evt_bad",
            received_at=timezone.now(),
            outcome="x" * 40,  # longer than the column
            status_code=202,
        )
        box.push(refused)
        post_webhook(endpoint, BODY, delivery="evt_good_too", drain=False)

        with caplog.at_level(logging.ERROR, logger="integrations.webhooks.persisting"):
            assert persisting.inbox_drain() == 3

        assert sorted(WebhookDelivery.objects.values_list("delivery_id", flat=True)) == ["evt_good", "evt_good_too"]
        assert box.waiting() == 0
        ((_, dead),) = box.client.xrange(box.dead_letters)
        assert json.loads(dead["r"])["delivery_id"] == "evt_bad"
        assert "set aside" in caplog.text

    def test_a_drain_stops_after_its_share_and_hands_on_to_a_new_task(self, post_webhook, box, settings):
        settings.WEBHOOKS_INBOX_BATCH = 2
        endpoint = make_endpoint("hex_hmac")
        for n in range(5):
            post_webhook(endpoint, BODY, delivery=f"evt_{n}", drain=False)
        drains_before = len(tasks_named(DRAIN_TASK))

        assert persisting.inbox_drain(max_entries=4) == 4

        assert box.waiting() == 1
        assert len(tasks_named(DRAIN_TASK)) == drains_before + 1

    def test_the_stream_emptied_by_hand_is_recreated(self, post_webhook, box):
        endpoint = make_endpoint("hex_hmac")
        post_webhook(endpoint, BODY, delivery="evt_1")
        box.client.delete(box.stream)  # its consumer group goes with it

        post_webhook(endpoint, BODY, delivery="evt_2")

        assert WebhookDelivery.objects.count() == 2

    def test_recorded_fields_survive_the_trip(self, post_webhook):
        endpoint = make_endpoint("standard_webhooks")
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY, delivery="msg_1")
        headers["User-Agent"] = "Svix-Webhooks/1.0"

        response = post_webhook(endpoint, BODY, headers)

        delivery = accepted_delivery(endpoint, response)
        assert json.loads(delivery.body) == json.loads(BODY)
        assert delivery.headers["User-Agent"] == "Svix-Webhooks/1.0"
        assert (delivery.status_code, delivery.is_valid, delivery.processed) == (202, True, False)
        assert delivery.received_at is not None and delivery.inbox_id


class TestWithoutRedis:
    """The embedded defaults (no Redis broker): each delivery is written as it arrives."""

    @pytest.fixture(autouse=True)
    def no_inbox(self, settings):
        settings.WEBHOOKS_INBOX_URL = ""

    def test_a_delivery_is_written_at_once_and_its_processing_enqueued(
        self, post_webhook, django_capture_on_commit_callbacks
    ):
        endpoint = make_endpoint("hex_hmac")
        with django_capture_on_commit_callbacks() as enqueued:
            response = post_webhook(endpoint, BODY, delivery="evt_1", drain=False)

        assert response.status_code == 202
        assert accepted_delivery(endpoint, response) is not None
        assert len(enqueued) == 1

    def test_a_duplicate_is_200_and_recorded(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        first = post_webhook(endpoint, BODY, delivery="evt_1", drain=False)
        again = post_webhook(endpoint, BODY, delivery="evt_1", drain=False)

        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json() == {"status": "duplicate", "delivery_id": "evt_1"}
        duplicate = WebhookDelivery.objects.get(outcome=Outcome.DUPLICATE)
        assert duplicate.status_code == 200 and duplicate.error == ""

    def test_draining_is_a_no_op(self):
        assert persisting.inbox_drain() == 0


class TestMetrics:
    def test_metrics_show_the_backlog_and_the_age_of_its_oldest_entry(self, post_webhook, monkeypatch, tmp_path):
        endpoint = make_endpoint("hex_hmac")
        for n in range(2):
            post_webhook(endpoint, BODY, delivery=f"evt_{n}", drain=False)

        waiting = scrape()
        persisting.inbox_drain()
        drained = scrape()
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # as under gunicorn
        multiprocess = scrape()

        assert sample(waiting, "switchboard_webhook_inbox_waiting") == 2
        assert 0 <= sample(waiting, "switchboard_webhook_inbox_oldest_age_seconds") < 60
        assert sample(drained, "switchboard_webhook_inbox_waiting") == 0
        assert sample(drained, "switchboard_webhook_inbox_oldest_age_seconds") == 0
        assert sample(multiprocess, "switchboard_webhook_inbox_waiting") == 0

    def test_a_scrape_does_not_fail_when_the_inbox_is_unreachable(self, settings):
        settings.WEBHOOKS_INBOX_URL = "redis://127.0.0.1:1/0"
        assert sample(scrape(), "switchboard_webhook_inbox_waiting") is None
