"""The accounts' reads: a bot user's scope is its owner's devices (or every owner's), nothing
for a chat without access; follows are read within the scope."""

import pytest

from bots import selectors, services
from bots.models import BotUser, FollowedDevice, Role
from tests.factories import OwnerFactory, register_device

pytestmark = pytest.mark.django_db


def bot_user(**fields) -> BotUser:
    user = services.bot_user_touch(platform="telegram", chat_id=str(BotUser.objects.count() + 1), chat_type="private")
    BotUser.objects.filter(pk=user.pk).update(**fields)
    user.refresh_from_db()
    return user


@pytest.fixture
def fleet(owner):
    other = OwnerFactory()
    return {"mine": [register_device(owner=owner) for _ in range(3)], "theirs": [register_device(owner=other)]}


def ids(devices) -> list[str]:
    return [device.device_id for device in devices]


def test_a_chat_without_access_sees_no_device(fleet):
    assert ids(selectors.bot_user_devices(bot_user=bot_user())) == []
    # A role without an owner is no access either.
    assert ids(selectors.bot_user_devices(bot_user=bot_user(role=Role.MANAGER))) == []


def test_a_chat_sees_its_owners_devices_in_id_order(owner, fleet):
    reader = bot_user(owner=owner, role=Role.MANAGER)

    assert ids(selectors.bot_user_devices(bot_user=reader)) == sorted(ids(fleet["mine"]))


def test_a_chat_of_every_owner_sees_every_device(fleet):
    everyone = bot_user(sees_all_owners=True)

    assert set(ids(selectors.bot_user_devices(bot_user=everyone))) == set(ids(fleet["mine"] + fleet["theirs"]))


def test_one_device_of_another_owner_is_none_like_a_missing_one(owner, fleet):
    reader = bot_user(owner=owner, role=Role.MANAGER)

    assert selectors.bot_user_device(bot_user=reader, device_id=fleet["mine"][0].device_id) == fleet["mine"][0]
    assert selectors.bot_user_device(bot_user=reader, device_id=fleet["theirs"][0].device_id) is None
    assert selectors.bot_user_device(bot_user=reader, device_id="0123456789abcdef") is None


def test_followed_devices_are_read_within_the_scope(owner, fleet):
    reader = bot_user(owner=owner, role=Role.MANAGER)
    for device in (fleet["mine"][0], fleet["theirs"][0]):  # the second left over from a former owner
        FollowedDevice.objects.create(bot_user=reader, device=device)

    assert selectors.bot_user_followed_device_ids(bot_user=reader) == {fleet["mine"][0].device_id}
    assert selectors.bot_user_follows(bot_user=reader, device_id=fleet["theirs"][0].device_id)


def test_event_kinds_are_the_subscribed_ones():
    reader = bot_user()
    services.subscription_toggle(bot_user=reader, event_kind="device.online")

    assert selectors.bot_user_event_kinds(bot_user=reader) == {
        "device.registered",
        "device.offline",
        "device.config_changed",
        "device.config_applied",
    }
