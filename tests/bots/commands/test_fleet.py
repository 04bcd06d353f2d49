"""/devices, /status, /add_device, /remove_device: a chat sees its owner's devices and nothing
else; following narrows what it is told, never what it may see."""

import datetime as dt

import pytest
from django.utils import timezone

from bots.models import BotUser, FollowedDevice
from devices.models import Device
from devices.services import config_mark_applied, config_update
from tests.bots.commands.conftest import bot_user_of, connect, press, private_chat, say
from tests.factories import register_device

pytestmark = pytest.mark.django_db


def _seen(device, *, ago: dt.timedelta, online: bool = True):
    Device.objects.filter(pk=device.pk).update(last_seen=timezone.now() - ago, is_online=online)


def test_devices_lists_the_owners_devices_with_online_status_and_last_seen(manager, owner, foreign_device):
    online = register_device(owner=owner, city="Berlin")
    offline = register_device(owner=owner, city="Hamburg", measurement_type_slug="humidity")
    _seen(online, ago=dt.timedelta(minutes=3))
    _seen(offline, ago=dt.timedelta(days=2, hours=1), online=False)

    reply = say(manager, "/devices")

    lines = reply.text.splitlines()
    assert lines[0] == "2 devices, page 1 of 1:"
    assert f"🟢 {online.device_id} · Berlin · Temperature — online, last seen 3\xa0minutes ago" in lines
    assert f"🔴 {offline.device_id} · Hamburg · Humidity — offline, last seen 2\xa0days ago" in lines
    assert foreign_device.device_id not in reply.text
    assert reply.buttons == []


def test_a_device_never_seen_says_so(manager, device):
    Device.objects.filter(pk=device.pk).update(last_seen=None)

    assert f"⚪ {device.device_id} · Berlin · Temperature — not seen yet" in say(manager, "/devices").text


def test_devices_come_in_pages_of_ten_with_previous_and_next_buttons(manager, owner):
    ids = sorted(register_device(owner=owner).device_id for _ in range(23))

    first = say(manager, "/devices")
    second = press(manager, "dv:2")
    last = press(manager, "dv:3")

    assert first.text.startswith("23 devices, page 1 of 3:")
    assert [(b.label, b.data) for b in first.buttons[0]] == [("Next »", "dv:2")]
    assert [(b.label, b.data) for b in second.buttons[0]] == [("« Previous", "dv:1"), ("Next »", "dv:3")]
    assert [(b.label, b.data) for b in last.buttons[0]] == [("« Previous", "dv:2")]
    assert second.edit and second.text.startswith("23 devices, page 2 of 3:")
    assert [line.split(" ")[1] for line in second.text.splitlines()[1:11]] == ids[10:20]
    assert [line.split(" ")[1] for line in last.text.splitlines()[1:4]] == ids[20:23]


def test_a_page_gone_since_the_button_was_made_shows_the_last_one(manager, owner):
    for _ in range(3):
        register_device(owner=owner)

    reply = press(manager, "dv:7")

    assert reply.text.startswith("3 devices, page 1 of 1:")


def test_an_owner_without_devices_is_told_so(manager):
    assert say(manager, "/devices").text == "There are no devices here yet."


def test_a_chat_of_every_owner_sees_every_device_with_its_owner(device, foreign_device):
    chat = private_chat()
    say(chat, "/start")
    BotUser.objects.filter(chat_id=chat.chat_id).update(sees_all_owners=True)

    text = say(chat, "/devices").text

    assert text.startswith("2 devices")
    assert f"{device.device_id} · {device.owner.slug} · Berlin" in text
    assert f"{foreign_device.device_id} · {foreign_device.owner.slug} · Berlin" in text


def test_status_shows_one_device_in_detail(manager, owner):
    device = register_device(owner=owner, city="Kyiv", sensor_model="BME280")
    Device.objects.filter(pk=device.pk).update(last_seen=dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC))
    config_update(device=device, send_interval=30, qos=2)
    config_mark_applied(device_id=device.device_id, version=1)

    reply = say(manager, f"/status {device.device_id.upper()}")

    lines = reply.text.splitlines()
    assert lines[:5] == [
        f"Device {device.device_id}",
        f"Owner: {owner.name}",
        "City: Kyiv",
        "Type: Temperature",
        "Model: BME280",
    ]
    assert lines[5].startswith("Status: online, last seen") and lines[5].endswith("(2030-01-02 03:04 UTC)")
    assert lines[6:] == ["Config: interval 30 s, QoS 2, version 2", "Applied: version 1 (version 2 pending)"]


def test_status_says_when_the_device_runs_its_config_and_when_it_has_not_reported(manager, device):
    assert "Applied: not reported yet" in say(manager, f"/status {device.device_id}").text
    config_mark_applied(device_id=device.device_id, version=1)
    assert "Applied: version 1 (up to date)" in say(manager, f"/status {device.device_id}").text


def test_a_device_of_another_owner_is_not_found_exactly_like_one_that_does_not_exist(manager, foreign_device):
    foreign = say(manager, f"/status {foreign_device.device_id}").text
    missing = say(manager, "/status 0123456789abcdef").text

    assert foreign == f"Device {foreign_device.device_id} not found among your devices. Send /devices to see them."
    assert missing == foreign.replace(foreign_device.device_id, "0123456789abcdef")


def test_status_without_a_device_id_says_how_to_use_it(manager):
    reply = say(manager, "/status")

    assert reply.text == "Send /status followed by a device id, for example /status 0123456789abcdef."


def test_add_device_follows_a_device_and_says_the_chat_is_told_about_those_only(manager, owner):
    first, second = register_device(owner=owner), register_device(owner=owner)

    one = say(manager, f"/add_device {first.device_id}")
    two = say(manager, f"/add_device {second.device_id}")
    again = say(manager, f"/add_device {second.device_id}")

    assert one.text == (f"Now following {first.device_id}. This chat is told about the 1 device it follows only.")
    assert two.text.endswith("told about the 2 devices it follows only.")
    assert again.text == f"This chat follows {second.device_id} already."
    assert FollowedDevice.objects.filter(bot_user=bot_user_of(manager)).count() == 2


def test_a_device_of_another_owner_cannot_be_followed(manager, foreign_device):
    reply = say(manager, f"/add_device {foreign_device.device_id}")

    assert "not found among your devices" in reply.text
    assert not FollowedDevice.objects.exists()


def test_following_narrows_nothing_of_what_the_chat_may_see(manager, owner):
    followed, other = register_device(owner=owner), register_device(owner=owner)
    say(manager, f"/add_device {followed.device_id}")

    listing = say(manager, "/devices").text

    assert other.device_id in listing
    assert f"{followed.device_id} · Berlin · Temperature ★" in listing
    assert "★ This chat follows 1 device and is told about it only." in listing
    assert say(manager, f"/status {other.device_id}").text.startswith(f"Device {other.device_id}")
    assert "This chat follows this device." in say(manager, f"/status {followed.device_id}").text


def test_remove_device_stops_following_and_says_what_is_left(manager, owner):
    first, second = register_device(owner=owner), register_device(owner=owner)
    say(manager, f"/add_device {first.device_id}")
    say(manager, f"/add_device {second.device_id}")

    one_left = say(manager, f"/remove_device {first.device_id}")
    none_left = say(manager, f"/remove_device {second.device_id}")
    not_followed = say(manager, f"/remove_device {second.device_id}")

    assert one_left.text == f"Stopped following {first.device_id}. This chat still follows 1 device."
    assert none_left.text == (
        f"Stopped following {second.device_id}. This chat follows no devices now, so it is told about all of them "
        "again."
    )
    assert not_followed.text == f"This chat does not follow {second.device_id}."


def test_a_follow_left_from_a_former_owner_can_be_removed_but_shows_nowhere(owner, other_owner):
    chat = private_chat()
    connect(chat, other_owner)
    old = register_device(owner=other_owner)
    say(chat, f"/add_device {old.device_id}")
    connect(chat, owner)  # a new invitation: another owner's devices now

    assert old.device_id not in say(chat, "/devices").text
    assert "not found" in say(chat, f"/status {old.device_id}").text
    assert say(chat, f"/remove_device {old.device_id}").text.startswith(f"Stopped following {old.device_id}.")


def test_remove_device_of_a_device_never_followed_nor_in_scope_is_not_found(manager, foreign_device):
    reply = say(manager, f"/remove_device {foreign_device.device_id}")

    assert "not found among your devices" in reply.text


@pytest.mark.parametrize("data", ["dv:0", "dv:-1", "dv:x", "dv:", "dv:1:2", "dv"])
def test_a_forged_page_button_gets_a_polite_notice(manager, data):
    reply = press(manager, data)

    assert (reply.text, reply.notice) == ("", "This button is outdated. Send the command again.")


def test_a_page_button_pressed_after_access_was_lost_says_how_to_get_it_back(manager):
    BotUser.objects.filter(chat_id=manager.chat_id).update(owner=None)

    reply = press(manager, "dv:2")

    assert reply.edit and reply.text.startswith("This chat has no access to any devices yet.")
    assert reply.notice == "No access yet."
