"""/notify: one button per event kind, ✅ on and ⬜ off; a press turns it over and redraws."""

import pytest

from bots.models import Subscription
from devices.models import DeviceEvent
from tests.bots.commands.conftest import bot_user_of, press, say

pytestmark = pytest.mark.django_db


def _labels(reply) -> list[str]:
    return [row[0].label for row in reply.buttons]


def test_a_new_chat_is_told_about_every_event_kind(manager):
    reply = say(manager, "/notify")

    assert reply.text == "Choose what this chat is told about (press to turn on or off):"
    assert _labels(reply) == [
        "✅ New device registered",
        "✅ Device went offline",
        "✅ Device back online",
        "✅ Config changed",
        "✅ Config applied by the device",
    ]
    assert [row[0].data for row in reply.buttons] == ["nt:reg", "nt:off", "nt:on", "nt:chg", "nt:app"]


def test_a_press_turns_a_kind_off_and_on_again(manager):
    off = press(manager, "nt:off")

    assert off.edit and off.notice == "Device went offline: off"
    assert _labels(off)[1] == "⬜ Device went offline"
    kinds = set(Subscription.objects.filter(bot_user=bot_user_of(manager)).values_list("event_kind", flat=True))
    assert kinds == set(DeviceEvent.Kind.values) - {DeviceEvent.Kind.OFFLINE}

    on = press(manager, "nt:off")

    assert on.notice == "Device went offline: on" and _labels(on)[1] == "✅ Device went offline"
    assert Subscription.objects.filter(bot_user=bot_user_of(manager)).count() == 5


def test_a_chat_that_follows_devices_is_reminded_it_hears_of_those_only(manager, device):
    say(manager, f"/add_device {device.device_id}")

    assert "Only about the devices it follows (/devices marks them with ★)." in say(manager, "/notify").text


@pytest.mark.parametrize("data", ["nt:", "nt:reboot", "nt:off:on", "nt:device.offline"])
def test_a_forged_toggle_gets_a_polite_notice_and_changes_nothing(manager, data):
    reply = press(manager, data)

    assert reply.notice == "This button is outdated. Send the command again."
    assert Subscription.objects.filter(bot_user=bot_user_of(manager)).count() == 5


def test_a_toggle_pressed_without_access_changes_nothing(stranger):
    reply = press(stranger, "nt:off")

    assert reply.text.startswith("This chat has no access to any devices yet.")
    assert Subscription.objects.filter(bot_user=bot_user_of(stranger)).count() == 5
