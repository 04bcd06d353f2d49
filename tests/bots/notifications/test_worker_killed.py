"""A worker killed with SIGKILL in the middle of a storm, and another started: every event still
reaches every chat, and only what was in flight when it died may arrive twice."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bots.models import Delivery, SentMessage
from bots.notifications import services
from devices.models import DeviceEvent
from devices.tasks import dispatch_device_event
from tests.factories import register_device
from tests.workers import wait_until

ROOT = Path(__file__).resolve().parents[3]
DEVICE_ID = re.compile(r"\b[0-9a-f]{16}\b")


def worker_start(fake) -> subprocess.Popen:
    """`celery -A config worker`, two processes, on this test's database and queue."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "INTEGRATIONS_TELEGRAM_API_URL": fake.base_url,
        "NOTIFICATIONS_GATHER_SECONDS": "0.3",
        "NOTIFICATIONS_DIGEST_INTERVAL_SECONDS": "0.5",
        # A digest waits at most 1 s here, and lists every id (its most events): the test reads
        # what arrived, and a digest gathered over longer waits can cover more than a thousand.
        "NOTIFICATIONS_DIGEST_MAX_INTERVAL_SECONDS": "1",
        "NOTIFICATIONS_DIGEST_IDS_PER_KIND": "10000",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes its children too
    )


def worker_kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_a_worker_killed_mid_storm_loses_nothing_and_repeats_at_most_what_was_in_flight(
    fake, owner, bot_user_of, settings
):
    chats = {42: bot_user_of(owner, chat_id=42), -100: bot_user_of(owner, chat_id=-100)}
    worker = worker_start(fake)
    try:
        devices = []
        while len(fake.messages) < 2:  # the storm goes on until the worker is into it
            devices += [register_device(owner=owner) for _ in range(5)]
            assert len(devices) < 2000, "the worker sends nothing"
        worker_kill(worker)
        devices += [register_device(owner=owner) for _ in range(50)]  # while no worker runs

        # What beat does once its thresholds pass: messages left mid-send go back to pending,
        # events never handed on are handed on again, waiting deliveries get a flush.
        settings.NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS = 0
        recovered = services.deliveries_recover()
        settings.NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS = 600
        settings.NOTIFICATIONS_RECOVER_PENDING_AFTER_SECONDS = 1
        for event_id in DeviceEvent.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True):
            dispatch_device_event.delay(str(event_id))
        worker = worker_start(fake)

        def everything_sent() -> bool:
            services.deliveries_recover()
            return Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2 * len(devices)

        wait_until(everything_sent, timeout=120)
    finally:
        worker_kill(worker)

    assert fake.rate_limited == 0
    every_device = {device.device_id for device in devices}
    for chat_id, chat in chats.items():
        told = [found for m in fake.messages_to(chat_id) for found in DEVICE_ID.findall(m["text"])]
        assert set(told) == every_device  # none lost
        twice = len(told) - len(set(told))
        in_flight = SentMessage.objects.filter(bot_user=chat, last_error="Worker lost mid-send; resent.")
        assert twice <= sum(in_flight.values_list("event_count", flat=True))  # only what was in flight
        assert Delivery.objects.filter(bot_user=chat).count() == len(devices)  # one row per event
    assert recovered.messages_resent <= 2  # one message per chat was in flight at most
