"""The flush of one bot user, called as its task calls it, against the fake Bot API: what is
sent, what is recorded, and what each of Telegram's refusals does."""

import time

import pytest
from django.utils.translation import get_language

from bots.models import BotUser, Delivery, SentMessage
from bots.notifications import flags, services
from bots.telegram import ratelimit
from devices.models import DeviceEvent
from tests.bots.notifications.helpers import events_handed_on

pytestmark = pytest.mark.django_db


def flush(bot_user) -> int:
    return services.bot_user_flush(bot_user_id=bot_user.pk)


def test_one_event_is_one_message_recorded_as_sent_and_a_second_flush_sends_nothing(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=42)
    (event,) = events_handed_on(owner, 1)

    assert flush(chat) == 1
    assert flush(chat) == 0

    (sent,) = fake.messages_to(42)
    assert sent["text"].startswith("New device registered!\nID: 0000000000000000\n")
    assert sent["parse_mode"] is None  # plain text: nothing a device sent can break the formatting
    message = SentMessage.objects.get()
    delivery = Delivery.objects.get()
    assert (message.status, message.is_digest, message.event_count, message.message_ids, message.chat_id) == (
        SentMessage.Status.SENT,
        False,
        1,
        [sent["message_id"]],
        "42",
    )
    assert (delivery.status, delivery.message, delivery.attempts, delivery.event) == ("sent", message, 1, event)
    assert delivery.sent_at is not None


def test_a_few_events_are_a_message_each_and_more_are_one_digest_that_covers_them_all(fake, owner, bot_user_of):
    few = bot_user_of(owner, chat_id=1, kinds=[DeviceEvent.Kind.OFFLINE])
    many = bot_user_of(owner, chat_id=2, kinds=[DeviceEvent.Kind.REGISTERED])
    events_handed_on(owner, 2, kind=DeviceEvent.Kind.OFFLINE)
    events_handed_on(owner, 40, start=100)

    assert flush(few) == 2
    assert flush(many) == 1

    assert [m["text"].split("\n")[0] for m in fake.messages_to(1)] == [
        "Device 0000000000000000 went offline.",
        "Device 0000000000000001 went offline.",
    ]
    (digest,) = fake.messages_to(2)
    assert digest["text"].startswith("40 devices registered in the last minute: 0000000000000064, ")
    assert digest["text"].endswith(", and 30 more")
    message = SentMessage.objects.get(bot_user=many)
    assert (message.is_digest, message.event_count) == (True, 40)
    assert set(message.deliveries.values_list("status", flat=True)) == {"sent"}
    assert message.deliveries.count() == 40


def test_a_text_over_4096_characters_is_sent_in_parts_and_every_part_is_recorded(fake, owner, bot_user_of, settings):
    settings.NOTIFICATIONS_DIGEST_IDS_PER_KIND = 1000
    chat = bot_user_of(owner, chat_id=42)
    events_handed_on(owner, 300)

    assert flush(chat) == 1

    parts = fake.messages_to(42)
    assert len(parts) == 2 and all(len(p["text"]) <= 4096 for p in parts)
    joined = " ".join(p["text"] for p in parts)
    assert all(f"{n:016x}" in joined for n in range(300))
    message = SentMessage.objects.get()
    assert message.message_ids == [p["message_id"] for p in parts]
    assert message.event_count == 300


@pytest.mark.parametrize("behaviour", ["blocked", "kicked", "deactivated", "not_found"])
def test_a_chat_that_is_gone_deactivates_its_bot_user_and_is_not_retried(fake, owner, bot_user_of, behaviour):
    chat = bot_user_of(owner, chat_id=-100 if behaviour == "kicked" else 42)
    fake.chat_behaviour(int(chat.chat_id), behaviour)
    events_handed_on(owner, 2)

    flush(chat)
    calls = len(fake.calls)
    flush(chat)
    events_handed_on(owner, 1, start=10)  # a later event: not even a delivery
    flush(chat)

    chat.refresh_from_db()
    assert not chat.is_active
    assert chat.last_error.lower().startswith(("forbidden:", "bad request: chat not found"))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert Delivery.objects.count() == 2
    assert SentMessage.objects.get().status == SentMessage.Status.FAILED
    assert len(fake.calls) == calls == 1


def test_a_group_that_became_a_supergroup_is_followed_and_told_there_at_once(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=-100)
    fake.chat_behaviour(-100, ("migrated", -1001234567890))
    events_handed_on(owner, 1)

    assert flush(chat) == 1

    chat.refresh_from_db()
    assert (chat.chat_id, chat.chat_type, chat.is_active) == ("-1001234567890", "supergroup", True)
    assert fake.messages_to(-100) == []
    (sent,) = fake.messages_to(-1001234567890)
    assert sent["text"].startswith("New device registered!")
    moved, delivered = SentMessage.objects.order_by("created_at", "pk")
    assert (moved.status, moved.chat_id, moved.last_error) == (
        "failed",
        "-100",
        "Chat moved to -1001234567890; sent there.",
    )
    assert (delivered.status, delivered.chat_id) == ("sent", "-1001234567890")
    assert Delivery.objects.get().message == delivered


def test_after_a_digest_the_chat_is_quiet_for_the_interval_and_the_next_events_gather(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=2)
    events_handed_on(owner, 40)
    assert flush(chat) == 1  # a digest; the chat is quiet for NOTIFICATIONS_DIGEST_INTERVAL_SECONDS
    events_handed_on(owner, 30, start=100)

    assert flush(chat) == 0  # the flush those events scheduled: too early, it leaves them to gather
    flags.flags_get().quiet(chat.pk, seconds=0.001)  # the interval is over
    time.sleep(0.01)
    assert flush(chat) == 1

    digests = [m["text"].split(":")[0] for m in fake.messages_to(2)]
    assert digests == ["40 devices registered in the last minute", "30 devices registered in the last minute"]


def test_the_wait_after_a_digest_doubles_through_a_storm_up_to_the_maximum(owner, bot_user_of, settings):
    settings.NOTIFICATIONS_DIGEST_INTERVAL_SECONDS = 10
    settings.NOTIFICATIONS_DIGEST_MAX_INTERVAL_SECONDS = 60
    chat = bot_user_of(owner, chat_id=2)
    waits = []
    for _ in range(5):
        SentMessage.objects.create(bot_user=chat, chat_id="2", is_digest=True, event_count=100)
        waits.append(services._digest_interval(chat))

    assert waits == [10, 20, 40, 60, 60]


def test_a_group_moving_to_a_supergroup_that_is_a_bot_user_already_becomes_one_told_once(fake, owner, bot_user_of):
    old = bot_user_of(owner, chat_id=-100)
    bot_user_of(owner, chat_id=-1001234567890)
    fake.chat_behaviour(-100, ("migrated", -1001234567890))
    events_handed_on(owner, 1)  # both were to be told

    flush(old)

    (survivor,) = BotUser.objects.all()
    assert survivor.chat_id == "-1001234567890"
    assert [message["chat_id"] for message in fake.messages] == [-1001234567890]
    assert Delivery.objects.get().status == "sent"


def test_a_429_sends_nothing_holds_the_chat_and_the_bot_for_retry_after_and_keeps_the_events(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=42)
    fake.force_429(retry_after=5, chat_id=42)
    events_handed_on(owner, 1)

    assert flush(chat) == 0

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.message) == ("pending", 0, None)
    assert SentMessage.objects.get().status == "failed"
    limiter = ratelimit.limiter_get()
    assert 4.5 < limiter.slot_reserve(42, is_group=False) <= 5
    assert 4.5 < limiter.slot_reserve(7, is_group=False) <= 5  # every chat of the bot waits
    assert fake.messages == []


def test_a_server_error_is_retried_a_few_times_then_the_delivery_fails(fake, owner, bot_user_of, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    chat = bot_user_of(owner, chat_id=42)
    events_handed_on(owner, 1)
    fake.force_status(502, times=100)

    flush(chat)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error

    flush(chat)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert chat.__class__.objects.get(pk=chat.pk).is_active  # the chat is fine; Telegram was not


def test_after_a_server_error_the_next_flush_sends(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=42)
    events_handed_on(owner, 1)
    fake.force_status(502, times=100)
    flush(chat)
    fake.reset()

    assert flush(chat) == 1
    assert Delivery.objects.get().status == "sent"
    assert len(fake.messages_to(42)) == 1


def test_a_message_a_lost_worker_left_mid_send_is_sent_again_once(fake, owner, bot_user_of, settings):
    settings.NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS = 0
    chat = bot_user_of(owner, chat_id=42)
    events_handed_on(owner, 1)
    services._message_prepare(chat)  # the worker died after this commit, before or after sending

    assert flush(chat) == 0  # a redelivered task finds nothing pending: it does not send it again
    recovered = services.deliveries_recover()
    assert flush(chat) == 1

    assert recovered.messages_resent == 1
    lost, resent = SentMessage.objects.order_by("created_at", "pk")
    assert (lost.status, lost.last_error) == ("failed", "Worker lost mid-send; resent.")
    assert resent.status == "sent"
    assert Delivery.objects.get().message == resent
    assert len(fake.messages_to(42)) == 1


def test_an_inactive_bot_users_pending_deliveries_fail_without_a_call(fake, owner, bot_user_of):
    chat = bot_user_of(owner, chat_id=42)
    events_handed_on(owner, 1)
    BotUser.objects.filter(pk=chat.pk).update(is_active=False)

    flush(chat)

    assert Delivery.objects.get().status == "failed"
    assert fake.calls == []


def test_notifications_are_written_in_the_bot_users_language(fake, owner, bot_user_of, monkeypatch):
    chat = bot_user_of(owner, chat_id=42, language="uk")
    events_handed_on(owner, 1)
    languages = []
    compose = services.texts.event_text
    monkeypatch.setattr(services.texts, "event_text", lambda note: languages.append(get_language()) or compose(note))

    flush(chat)

    assert languages == ["uk"]
