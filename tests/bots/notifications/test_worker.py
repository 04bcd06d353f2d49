"""End to end through a real Celery worker: a device service writes an event, the worker hands
it on, the notifications reach the fake Bot API — once per (chat, event), within the limits."""

from django.db import transaction

from bots.models import Delivery, SentMessage
from bots.notifications import services
from bots.notifications.tasks import bot_user_flush_task
from devices.models import DeviceEvent
from tests.factories import register_device
from tests.workers import wait_until


def all_sent(n: int):
    return lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == n


def test_a_registration_reaches_each_chat_once_even_when_handed_on_and_flushed_twice(
    celery_worker, finished_tasks, fake, owner, bot_user_of
):
    chats = [bot_user_of(owner, chat_id=42), bot_user_of(owner, chat_id=-100)]
    device = register_device(owner=owner)
    wait_until(all_sent(2))

    event = DeviceEvent.objects.get(device=device, kind=DeviceEvent.Kind.REGISTERED)
    with transaction.atomic():
        services.deliveries_create(event=event)  # a second hand-off of the same event
    again = [bot_user_flush_task.delay(chat.pk).id for chat in chats * 2]  # retried flushes
    wait_until(lambda: set(again) <= set(finished_tasks))

    assert Delivery.objects.count() == 2
    for chat_id in (42, -100):
        (message,) = fake.messages_to(chat_id)
        assert message["text"].startswith(f"New device registered!\nID: {device.device_id}\n")
    assert SentMessage.objects.filter(status="sent").count() == 2


def test_a_429_is_waited_out_exactly_and_every_chat_of_the_bot_waits_with_it(celery_worker, fake, owner, bot_user_of):
    for chat_id in (1, 2, 3):
        bot_user_of(owner, chat_id=chat_id)
    fake.force_429(retry_after=2)  # the first sendMessage, whichever chat it is for

    register_device(owner=owner)
    wait_until(all_sent(3))

    sends = [call for call in fake.calls if call["method"] == "sendMessage"]
    refused, after = sends[0], sends[1:]
    assert refused["status"] == 429
    assert [call["status"] for call in after] == [200, 200, 200]
    assert all(call["t"] >= refused["t"] + 2 - 0.05 for call in after)  # nobody sent while it held
    assert after[0]["t"] < refused["t"] + 2 + 1.0  # and then at once
    assert fake.rate_limited == 0
    assert sorted(len(fake.messages_to(chat_id)) for chat_id in (1, 2, 3)) == [1, 1, 1]


def test_a_storm_reaches_each_chat_as_a_few_digests_that_cover_every_event_once(
    celery_worker, fake, owner, bot_user_of
):
    chats = {42: bot_user_of(owner, chat_id=42), -100: bot_user_of(owner, chat_id=-100)}
    devices = [register_device(owner=owner) for _ in range(300)]
    wait_until(all_sent(600), timeout=60)

    assert fake.rate_limited == 0
    for chat_id, chat in chats.items():
        messages = SentMessage.objects.filter(bot_user=chat)
        assert 1 <= messages.count() <= 12
        assert sum(messages.values_list("event_count", flat=True)) == 300
        covered = Delivery.objects.filter(bot_user=chat, message__in=messages, message__status="sent")
        assert sorted(covered.values_list("device_id", flat=True)) == sorted(d.device_id for d in devices)
        for message in messages:
            assert message.deliveries.count() == message.event_count
        texts = [m["text"] for m in fake.messages_to(chat_id)]
        assert len(texts) == messages.count()
        assert sum(events_told(text) for text in texts) == 300


def events_told(text: str) -> int:
    """How many registrations a message tells of: "N devices registered …", or one."""
    if text.startswith("New device registered!"):
        return 1
    count, rest = text.split(" ", 1)
    assert rest.startswith(("devices registered", "device registered")), text
    return int(count)
