"""The accounts' writes: a chat becomes a bot user once, however its messages race; forgetting
leaves nothing that names it; a chat that moved (group → supergroup) keeps its access."""

import pytest

from bots import services
from bots.models import BotUser, Delivery, FollowedDevice, Role, SentMessage, Subscription
from devices.models import DeviceEvent
from tests.concurrency import all_at_once
from tests.factories import register_device

pytestmark = pytest.mark.django_db


def touch(chat_id="42", **fields):
    defaults = {"platform": "telegram", "chat_type": "private", "username": "ann", "display_name": "Ann"}
    return services.bot_user_touch(chat_id=chat_id, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("uk", "uk"),
        ("UK-ua", "uk"),
        ("en", "en"),
        ("de", "en"),
        ("", "en"),
        ("ukr", "en"),
        ("rus", "en"),
    ],
)
def test_language_from_code(code, language):
    assert services.language_from_code(code) == language


def test_a_new_chat_becomes_a_bot_user_without_access_told_about_every_kind():
    bot_user = touch(language_code="uk")

    assert (bot_user.chat_id, bot_user.role, bot_user.owner, bot_user.language) == ("42", Role.NONE, None, "uk")
    assert bot_user.last_seen_at is not None
    kinds = set(Subscription.objects.filter(bot_user=bot_user).values_list("event_kind", flat=True))
    assert kinds == set(DeviceEvent.Kind.values)


def test_a_known_chat_gets_its_names_brought_up_to_date_and_nothing_else(owner):
    first = touch(username="ann")
    BotUser.objects.filter(pk=first.pk).update(owner=owner, role=Role.MANAGER)
    Subscription.objects.filter(bot_user=first, event_kind=DeviceEvent.Kind.OFFLINE).delete()

    again = touch(username="ann_new", display_name="Ann N.")

    assert again.pk == first.pk
    stored = BotUser.objects.get(pk=first.pk)
    assert (stored.username, stored.display_name, stored.owner, stored.role) == ("ann_new", "Ann N.", owner, "manager")
    assert Subscription.objects.filter(bot_user=first).count() == 4  # its choices are not reset


def test_a_deactivated_chat_that_writes_again_is_reachable_again():
    bot_user = touch()
    services.bot_user_deactivate(bot_user=bot_user, reason="Forbidden: bot was blocked by the user")
    assert not BotUser.objects.get(pk=bot_user.pk).is_active

    assert touch().is_active and BotUser.objects.get(pk=bot_user.pk).is_active


def test_deactivating_keeps_the_reason_for_the_admin():
    bot_user = touch()

    services.bot_user_deactivate(bot_user=bot_user, reason="Forbidden: bot was kicked " + "x" * 600)

    stored = BotUser.objects.get(pk=bot_user.pk)
    assert (
        not stored.is_active
        and stored.last_error.startswith("Forbidden: bot was kicked")
        and len(stored.last_error) == 500
    )


@pytest.mark.django_db(transaction=True)
def test_a_chats_first_messages_arriving_at_once_make_one_bot_user():
    results = all_at_once(lambda: touch(chat_id="777").pk)

    assert len(set(results)) == 1
    assert BotUser.objects.filter(chat_id="777").count() == 1
    assert Subscription.objects.filter(bot_user_id=results[0]).count() == len(DeviceEvent.Kind.values)


def _delivery(bot_user, event, **fields):
    return Delivery.objects.create(
        bot_user=bot_user, event=event, event_kind=event.kind, device_id=event.payload.get("device_id", ""), **fields
    )


def test_forget_removes_the_chat_and_anonymises_what_it_was_sent(owner):
    bot_user = touch()
    device = register_device(owner=owner)
    services.device_follow(bot_user=bot_user, device=device)
    message = SentMessage.objects.create(bot_user=bot_user, chat_id="42", event_count=1)
    delivery = _delivery(bot_user, DeviceEvent.objects.get(device=device), message=message)

    services.bot_user_forget(bot_user=bot_user)

    assert not BotUser.objects.exists() and not Subscription.objects.exists() and not FollowedDevice.objects.exists()
    message.refresh_from_db()
    delivery.refresh_from_db()
    assert (message.bot_user_id, message.chat_id) == (None, "")
    assert (delivery.bot_user_id, delivery.message_id, delivery.status) == (None, message.pk, "pending")


def test_a_moved_chat_keeps_its_row_under_the_new_id(owner):
    group = touch(chat_id="-100", chat_type="group")
    BotUser.objects.filter(pk=group.pk).update(owner=owner, role=Role.MANAGER)

    moved = services.bot_user_move_chat(bot_user=group, new_chat_id=-1001234567890)

    assert (moved.pk, moved.chat_id, moved.chat_type, moved.owner) == (group.pk, "-1001234567890", "supergroup", owner)


def test_a_moved_chat_absorbs_a_newer_bot_user_of_its_new_id(owner):
    device = register_device(owner=owner)
    event = DeviceEvent.objects.get(device=device)
    old = touch(chat_id="-100", chat_type="group")
    BotUser.objects.filter(pk=old.pk).update(owner=owner, role=Role.ADMINISTRATOR)
    old.refresh_from_db()
    newer = touch(chat_id="-1009", chat_type="supergroup")  # someone wrote in the supergroup first
    _delivery(old, event)
    _delivery(newer, event)  # the same event for both: told once
    other_event = DeviceEvent.objects.create(kind=DeviceEvent.Kind.OFFLINE, device=device, payload={})
    _delivery(newer, other_event)
    SentMessage.objects.create(bot_user=newer, chat_id="-1009")

    moved = services.bot_user_move_chat(bot_user=old, new_chat_id="-1009")

    assert moved.pk == old.pk and moved.chat_id == "-1009" and moved.role == Role.ADMINISTRATOR
    assert list(BotUser.objects.values_list("pk", flat=True)) == [old.pk]
    assert sorted(Delivery.objects.filter(bot_user=moved).values_list("event__kind", flat=True)) == [
        "device.offline",
        "device.registered",
    ]
    assert SentMessage.objects.get().bot_user_id == old.pk


def test_a_moved_chat_without_access_gives_way_to_the_new_ids_bot_user_that_has_it(owner):
    old = touch(chat_id="-200", chat_type="group")
    newer = touch(chat_id="-2009", chat_type="supergroup")
    BotUser.objects.filter(pk=newer.pk).update(owner=owner, role=Role.MANAGER)

    moved = services.bot_user_move_chat(bot_user=old, new_chat_id="-2009")

    assert moved.pk == newer.pk and moved.has_access
    assert not BotUser.objects.filter(pk=old.pk).exists()


def test_follow_and_unfollow_say_whether_they_changed_anything(owner):
    bot_user, device = touch(), register_device(owner=owner)

    assert services.device_follow(bot_user=bot_user, device=device) is True
    assert services.device_follow(bot_user=bot_user, device=device) is False
    assert services.device_unfollow(bot_user=bot_user, device_id=device.device_id) is True
    assert services.device_unfollow(bot_user=bot_user, device_id=device.device_id) is False


def test_subscription_toggle_turns_a_kind_over_and_refuses_unknown_kinds():
    bot_user = touch()

    assert services.subscription_toggle(bot_user=bot_user, event_kind=DeviceEvent.Kind.ONLINE) is False
    assert services.subscription_toggle(bot_user=bot_user, event_kind=DeviceEvent.Kind.ONLINE) is True
    with pytest.raises(ValueError):
        services.subscription_toggle(bot_user=bot_user, event_kind="device.exploded")
