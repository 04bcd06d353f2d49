"""Who is told about an event: owner and role, subscriptions, followed devices, active, and the
chats of the original's TELEGRAM_CHAT_ID setting."""

import pytest

from bots.models import BotUser, Delivery, FollowedDevice, Role, Subscription
from bots.notifications import recipients, services
from devices.models import DeviceEvent
from tests.factories import OwnerFactory, register_device

pytestmark = pytest.mark.django_db


def _registered_event(device) -> DeviceEvent:
    return DeviceEvent.objects.get(device=device, kind=DeviceEvent.Kind.REGISTERED)


def _told(event) -> set[str]:
    return set(recipients.event_recipients(event=event).values_list("chat_id", flat=True))


def test_the_owners_chats_with_a_role_and_a_subscription_are_told_and_nobody_else(owner, bot_user_of):
    other_owner = OwnerFactory()
    bot_user_of(owner, chat_id=1)
    bot_user_of(owner, chat_id=-2, role=Role.ADMINISTRATOR)
    bot_user_of(owner, chat_id=3, role=Role.NONE)  # registered, no access granted
    bot_user_of(owner, chat_id=4, kinds=[DeviceEvent.Kind.OFFLINE])  # not subscribed to registrations
    bot_user_of(owner, chat_id=5, is_active=False)  # blocked the bot
    bot_user_of(other_owner, chat_id=6)
    bot_user_of(None, chat_id=7, role=Role.NONE, sees_all_owners=True)  # a TELEGRAM_CHAT_ID chat

    event = _registered_event(register_device(owner=owner))

    assert _told(event) == {"1", "-2", "7"}


def test_a_chat_that_follows_devices_is_told_about_those_only(owner, bot_user_of):
    followed, other = register_device(owner=owner), register_device(owner=owner)
    follower = bot_user_of(owner, chat_id=10)
    FollowedDevice.objects.create(bot_user=follower, device=followed)
    bot_user_of(owner, chat_id=11)  # follows nothing: told about every device of the owner

    assert _told(_registered_event(followed)) == {"10", "11"}
    assert _told(_registered_event(other)) == {"11"}


def test_the_recipients_are_one_query(owner, bot_user_of, django_assert_num_queries):
    for chat_id in range(20, 30):
        bot_user_of(owner, chat_id=chat_id)
    event = _registered_event(register_device(owner=owner))

    with django_assert_num_queries(1):
        assert len(_told(event)) == 10


def test_a_second_hand_off_of_an_event_adds_no_delivery(owner, bot_user_of):
    bot_user_of(owner, chat_id=1)
    event = _registered_event(register_device(owner=owner))

    services.deliveries_create(event=event)
    services.deliveries_create(event=event)

    ((delivery),) = Delivery.objects.all()
    assert (delivery.event_kind, delivery.device_id, delivery.status) == (
        DeviceEvent.Kind.REGISTERED,
        event.payload["device_id"],
        Delivery.Status.PENDING,
    )


def test_the_chats_of_telegram_chat_id_become_bot_users_that_see_everything(owner, monkeypatch):
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "111, -1002,not-a-chat,")
    event = _registered_event(register_device(owner=owner))

    services.deliveries_create(event=event)

    chats = {u.chat_id: u for u in BotUser.objects.all()}
    assert set(chats) == {"111", "-1002"}
    assert all(u.sees_all_owners and u.is_active and u.owner is None for u in chats.values())
    assert (chats["111"].chat_type, chats["-1002"].chat_type) == (BotUser.ChatType.PRIVATE, BotUser.ChatType.GROUP)
    for bot_user in chats.values():
        kinds = set(Subscription.objects.filter(bot_user=bot_user).values_list("event_kind", flat=True))
        assert kinds == set(DeviceEvent.Kind.values)
    assert set(Delivery.objects.values_list("bot_user__chat_id", flat=True)) == {"111", "-1002"}


def test_a_known_telegram_chat_id_chat_keeps_its_choices_and_a_blocked_one_stays_off(owner, bot_user_of, monkeypatch):
    chose = bot_user_of(owner, chat_id=1, kinds=[DeviceEvent.Kind.OFFLINE])
    blocked = bot_user_of(owner, chat_id=2, is_active=False)
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "1,2")

    services.deliveries_create(event=_registered_event(register_device(owner=owner)))

    chose.refresh_from_db()
    blocked.refresh_from_db()
    assert chose.sees_all_owners and not blocked.is_active
    assert list(chose.subscriptions.values_list("event_kind", flat=True)) == [DeviceEvent.Kind.OFFLINE]
    assert not Delivery.objects.exists()


def test_telegram_chat_id_is_read_once_per_value(owner, monkeypatch, django_assert_num_queries):
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "111")
    services.chat_id_setting_users_ensure()

    with django_assert_num_queries(0):
        services.chat_id_setting_users_ensure()

    monkeypatch.setenv("TELEGRAM_CHAT_ID", "111,222")
    services.chat_id_setting_users_ensure()
    assert set(BotUser.objects.values_list("chat_id", flat=True)) == {"111", "222"}
