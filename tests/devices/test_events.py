"""Device events: written to the outbox with the change, handed to a real Celery worker over
the real Redis broker once the transaction commits, and pushed to staff on ``ws/events/``."""

import json
import threading

import pytest
from asgiref.sync import sync_to_async
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from config.asgi import application
from config.celery import app as celery_app
from config.errors import DomainError
from devices import registration, services, signals, tasks
from devices.identity import InvalidMac
from devices.models import DeviceEvent
from tests.broker import queued_tasks
from tests.concurrency import all_at_once
from tests.factories import OwnerFactory, UserFactory, measurement_type, register_device

# How long to wait for the worker or the channel layer before a test fails (never a pass).
DEADLINE_SECONDS = 20


# ------------------------------------------------------------------------------------ outbox


@pytest.mark.django_db
def test_registration_writes_a_registered_event_to_the_outbox(owner):
    device = register_device(owner=owner, city="Paris")

    event = DeviceEvent.objects.get()
    assert (event.kind, event.device, event.dispatched_at) == ("device.registered", device, None)
    assert event.payload["device_id"] == device.device_id
    assert event.payload["city"] == "Paris"
    assert event.payload["is_new"] is True
    # Events travel to other services: the device's credential never rides along.
    assert device.key not in json.dumps(event.payload)
    assert not any("key" in field for field in event.payload)


@pytest.mark.django_db
def test_a_config_change_writes_a_config_changed_event_to_the_outbox(device, staff_user):
    services.config_update(device=device, send_interval=90, changed_by=staff_user)

    event = DeviceEvent.objects.get(kind="device.config_changed")
    assert event.payload["version"] == 2
    assert event.payload["new"] == {"send_interval": 90, "qos": 1}
    assert event.payload["source"] == "api"


@pytest.mark.django_db
def test_a_refused_registration_leaves_no_event(owner):
    with pytest.raises(InvalidMac):
        registration.device_register(
            mac_address="bad", owner=owner, measurement_type=measurement_type(), city="x", latitude=0, longitude=0
        )

    assert not DeviceEvent.objects.exists()


# ------------------------------------------------------------------------------ the task queue


@pytest.mark.django_db(transaction=True)
def test_the_dispatch_task_is_enqueued_only_after_the_transaction_commits(owner):
    with transaction.atomic():
        register_device(owner=owner)
        event_id = str(DeviceEvent.objects.get().id)
        assert queued_tasks() == []

    assert queued_tasks() == [("devices.tasks.dispatch_device_event", [event_id])]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_enqueues_nothing(owner):
    with pytest.raises(RuntimeError), transaction.atomic():
        register_device(owner=owner)
        raise RuntimeError("the surrounding work failed")

    assert not DeviceEvent.objects.exists()
    assert queued_tasks() == []


class Arrivals(list):
    """A list filled from the worker's thread, which a test can wait on."""

    def __init__(self):
        super().__init__()
        self._changed = threading.Condition()

    def add(self, item) -> None:
        with self._changed:
            self.append(item)
            self._changed.notify_all()

    def wait_for(self, count: int) -> list:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self) >= count, timeout=DEADLINE_SECONDS), list(self)
        return list(self)


@pytest.fixture
def dispatched():
    """Ids of the events the worker handed on, as the integrations layer will receive them."""
    received = Arrivals()

    def receiver(sender, event, **kwargs):
        received.add(str(event.id))

    signals.device_event_dispatched.connect(receiver, weak=False, dispatch_uid="tests.dispatched")
    yield received
    signals.device_event_dispatched.disconnect(dispatch_uid="tests.dispatched")


@pytest.fixture
def task_runs():
    """(task name, return value) of every task the worker ran, in order."""
    runs = Arrivals()

    def record(sender, retval, **kwargs):
        runs.add((sender.name, retval))

    task_postrun.connect(record, weak=False, dispatch_uid="tests.task_runs")
    yield runs
    task_postrun.disconnect(dispatch_uid="tests.task_runs")


@pytest.fixture
def celery_worker(transactional_db, task_runs):
    """A real worker, in a thread of this process, consuming our queue on the real broker."""
    with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING") as worker:
        yield worker
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_worker_hands_a_registration_on_once_and_marks_it_dispatched(celery_worker, dispatched, task_runs, owner):
    register_device(owner=owner)
    event = DeviceEvent.objects.get()

    assert task_runs.wait_for(1) == [("devices.tasks.dispatch_device_event", True)]
    assert dispatched == [str(event.id)]
    event.refresh_from_db()
    assert event.dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_config_change_is_handed_on_by_the_worker(celery_worker, dispatched, task_runs, owner):
    device = register_device(owner=owner)
    task_runs.wait_for(1)

    services.config_update(device=device, qos=2)

    changed = DeviceEvent.objects.get(kind="device.config_changed")
    task_runs.wait_for(2)
    assert dispatched[1:] == [str(changed.id)]
    changed.refresh_from_db()
    assert changed.dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_dispatching_an_event_twice_hands_it_on_once(celery_worker, dispatched, task_runs, owner):
    register_device(owner=owner)
    event_id = str(DeviceEvent.objects.get().id)

    tasks.dispatch_device_event.delay(event_id)
    tasks.dispatch_device_event.delay(event_id)

    assert [retval for _, retval in task_runs.wait_for(3)] == [True, False, False]
    assert dispatched == [event_id]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_event_hand_it_on_once(owner, dispatched):
    register_device(owner=owner)  # no worker runs: the enqueued hand-off just waits
    event_id = str(DeviceEvent.objects.get().id)
    results = all_at_once(lambda: tasks.dispatch_device_event(event_id), 2)

    assert sorted(results) == [False, True]
    assert dispatched == [event_id]


@pytest.mark.django_db(transaction=True)
def test_events_whose_hand_off_was_lost_are_enqueued_again(celery_worker, dispatched, task_runs, owner):
    device = register_device(owner=owner)
    task_runs.wait_for(1)
    task_runs.clear()
    dispatched.clear()
    # Outbox rows nobody enqueued (the broker was down at commit time): one stale, one recent.
    stale = DeviceEvent.objects.create(kind="device.registered", device=device, payload={"device_id": "x"})
    DeviceEvent.objects.filter(pk=stale.pk).update(created_at=timezone.now() - tasks.REDISPATCH_AFTER * 2)
    recent = DeviceEvent.objects.create(kind="device.registered", device=device, payload={"device_id": "y"})

    tasks.redispatch_pending_events.delay()

    assert task_runs.wait_for(2) == [
        ("devices.tasks.redispatch_pending_events", 1),
        ("devices.tasks.dispatch_device_event", True),
    ]
    assert dispatched == [str(stale.id)]
    stale.refresh_from_db()
    recent.refresh_from_db()
    assert stale.dispatched_at is not None
    assert recent.dispatched_at is None


# ------------------------------------------------------------------------------ live websocket


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def events_socket(*, cookie: str | None = None, origin: str = "http://testserver") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/events/", headers=headers)


@pytest.fixture
async def async_db_connections_closed():
    """The ORM calls of an async test run in asgiref's one shared thread, whose connection
    outlives the test; close it, or the test database cannot be dropped at the end."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def staff_cookie(transactional_db):
    return session_cookie(UserFactory(is_staff=True))


@pytest.mark.django_db(transaction=True)
async def test_staff_receive_registrations_and_config_changes_live(
    celery_worker, staff_cookie, async_db_connections_closed
):
    """The worker that hands each event on shows it live (through the Redis channel layer)."""
    owner = await sync_to_async(OwnerFactory)()
    socket = events_socket(cookie=staff_cookie)
    connected, _ = await socket.connect(timeout=DEADLINE_SECONDS)
    assert connected

    device = await database_sync_to_async(register_device)(owner=owner)
    registered = await socket.receive_json_from(timeout=DEADLINE_SECONDS)

    assert registered["event"] == "device.registered"
    assert registered["data"]["device_id"] == device.device_id
    assert registered["data"]["owner"] == owner.slug
    assert registered["data"]["is_new"] is True
    assert set(registered) == {"event", "id", "at", "data"}

    await database_sync_to_async(services.config_update)(device=device, send_interval=30)
    changed = await socket.receive_json_from(timeout=DEADLINE_SECONDS)

    assert changed["event"] == "device.config_changed"
    assert changed["data"]["device_id"] == device.device_id
    assert changed["data"]["new"] == {"send_interval": 30, "qos": 1}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_feed_ignores_what_staff_send(staff_cookie, async_db_connections_closed):
    socket = events_socket(cookie=staff_cookie)
    assert (await socket.connect(timeout=DEADLINE_SECONDS))[0]

    await socket.send_json_to({"event": "device.registered"})

    assert await socket.receive_nothing()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_user_who_is_not_staff_is_refused(async_db_connections_closed):
    cookie = await sync_to_async(session_cookie)(await sync_to_async(UserFactory)())
    socket = events_socket(cookie=cookie)

    assert await socket.connect(timeout=DEADLINE_SECONDS) == (False, 4403)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cookie", [None, "not-a-session"])
async def test_anonymous_callers_are_refused(cookie, async_db_connections_closed):
    socket = events_socket(cookie=cookie)

    assert await socket.connect(timeout=DEADLINE_SECONDS) == (False, 4403)


@pytest.mark.django_db(transaction=True)
async def test_a_page_of_another_origin_can_not_open_the_feed(staff_cookie, async_db_connections_closed):
    socket = events_socket(cookie=staff_cookie, origin="https://evil.example")

    connected, _ = await socket.connect(timeout=DEADLINE_SECONDS)

    assert not connected


@pytest.mark.django_db
def test_a_device_running_a_new_config_version_writes_a_config_applied_event(device):
    services.config_update(device=device, send_interval=90)

    services.config_mark_applied(device_id=device.device_id, version=2)

    event = DeviceEvent.objects.get(kind="device.config_applied")
    assert event.device_id == device.pk
    assert (event.payload["device_id"], event.payload["version"], event.payload["current_version"]) == (
        device.device_id,
        2,
        2,
    )


@pytest.mark.django_db
def test_the_same_version_reported_after_every_reboot_is_one_event(device):
    services.config_mark_applied(device_id=device.device_id, version=1)
    services.config_mark_applied(device_id=device.device_id, version=1)

    assert DeviceEvent.objects.filter(kind="device.config_applied").count() == 1
    device.config.refresh_from_db()
    assert device.config.applied_version == 1 and device.config.applied_at is not None


@pytest.mark.django_db
def test_going_back_to_an_older_version_is_an_event_too(device):
    services.config_update(device=device, qos=2)
    services.config_mark_applied(device_id=device.device_id, version=2)
    services.config_mark_applied(device_id=device.device_id, version=1)  # the device fell back

    versions = DeviceEvent.objects.filter(kind="device.config_applied").order_by("created_at")
    assert [event.payload["version"] for event in versions] == [2, 1]


@pytest.mark.django_db
def test_a_refused_report_leaves_no_event(device):
    with pytest.raises(DomainError):
        services.config_mark_applied(device_id=device.device_id, version=7)

    assert not DeviceEvent.objects.filter(kind="device.config_applied").exists()


@pytest.mark.django_db(transaction=True)
def test_a_config_applied_event_is_handed_on_by_the_worker(celery_worker, dispatched, task_runs, owner):
    device = register_device(owner=owner)
    task_runs.wait_for(1)

    services.config_mark_applied(device_id=device.device_id, version=1)

    applied = DeviceEvent.objects.get(kind="device.config_applied")
    task_runs.wait_for(2)
    assert dispatched[1:] == [str(applied.id)]
