"""/change_config: administrators only; old → new, confirmed with a button; the confirmation
goes through the device service (validation, version bump, history naming the chat user, the
device event) and refuses to apply to a config that changed since it was shown."""

import pytest

from bots.models import BotUser, Role
from devices.models import ConfigChange, DeviceConfig, DeviceEvent
from devices.services import config_update
from tests.bots.commands.conftest import connect, group_chat, press, say

pytestmark = pytest.mark.django_db


def _config(device) -> DeviceConfig:
    return DeviceConfig.objects.get(device=device)


def test_the_administrator_is_shown_old_and_new_and_asked_to_confirm(administrator, device):
    before = _config(device)

    reply = say(administrator, f"/change_config {device.device_id} interval=30 qos=2")

    assert reply.text.splitlines() == [
        f"Change the config of {device.device_id}?",
        f"Interval: {before.send_interval} s → 30 s",
        f"QoS: {before.qos} → 2",
        "Its config is version 1 now; the change makes version 2.",
    ]
    assert [(b.label, b.data) for b in reply.buttons[0]] == [
        ("Change it", f"cc:{device.device_id}:30:2:1"),
        ("Cancel", "cc:no"),
    ]
    assert _config(device).version == 1  # nothing changes before the button is pressed


def test_a_value_left_out_or_given_as_it_is_shows_as_unchanged(administrator, device):
    before = _config(device)

    reply = say(administrator, f"/change_config {device.device_id} qos={(before.qos + 1) % 3}")

    assert f"Interval: {before.send_interval} s (unchanged)" in reply.text.splitlines()
    assert reply.buttons[0][0].data == f"cc:{device.device_id}:-:{(before.qos + 1) % 3}:1"


def test_confirming_changes_the_config_through_the_device_service(administrator, device):
    data = say(administrator, f"/change_config {device.device_id} interval=45 qos=0").buttons[0][0].data

    reply = press(administrator, data)

    assert reply.edit and reply.notice == "Config changed."
    assert reply.text == f"Done: {device.device_id} has config version 2 now: interval 45 s, QoS 0."
    config = _config(device)
    assert (config.version, config.send_interval, config.qos) == (2, 45, 0)
    change = ConfigChange.objects.get(device=device, kind=ConfigChange.Kind.CONFIG, version=2)
    assert (change.source, change.actor, change.changed_by) == ("telegram", "Telegram user @adam", None)
    assert (change.new["send_interval"], change.new["qos"]) == (45, 0)
    assert DeviceEvent.objects.filter(device=device, kind=DeviceEvent.Kind.CONFIG_CHANGED).count() == 1


def test_in_a_group_the_history_names_who_pressed_not_the_group(owner, device):
    group = group_chat(sender_username="", sender_name="Olga")
    connect(group, owner, Role.ADMINISTRATOR)
    data = say(group, f"/change_config {device.device_id} interval=50").buttons[0][0].data

    press(group, data)

    assert ConfigChange.objects.get(device=device, version=2).actor == "Telegram user Olga"


def test_a_config_changed_since_it_was_shown_is_not_overwritten(administrator, device):
    data = say(administrator, f"/change_config {device.device_id} interval=45").buttons[0][0].data
    config_update(device=device, send_interval=90)  # someone else, through the API

    reply = press(administrator, data)

    assert reply.text == (
        f"The config of {device.device_id} changed since you asked (it is version 2 now). Nothing was changed: "
        "send /change_config again to see the current values."
    )
    assert reply.notice == "Not changed."
    assert (_config(device).version, _config(device).send_interval) == (2, 90)


def test_a_confirmation_pressed_twice_changes_once(administrator, device):
    data = say(administrator, f"/change_config {device.device_id} interval=45").buttons[0][0].data

    press(administrator, data)
    second = press(administrator, data)

    assert "changed since you asked (it is version 2 now)" in second.text
    assert _config(device).version == 2


def test_cancel_changes_nothing(administrator, device):
    say(administrator, f"/change_config {device.device_id} interval=45")

    reply = press(administrator, "cc:no")

    assert (reply.text, reply.edit) == ("The config was not changed.", True)
    assert _config(device).version == 1


def test_nothing_to_change_is_said_without_asking(administrator, device):
    config = _config(device)

    reply = say(administrator, f"/change_config {device.device_id} interval={config.send_interval} qos={config.qos}")

    assert reply.text == (
        f"Nothing to change: {device.device_id} has interval {config.send_interval} s and QoS {config.qos} already."
    )
    assert reply.buttons == []


@pytest.mark.parametrize(
    ("values", "answer"),
    [
        ("interval=0", "The interval must be between 1 and 86400 seconds."),
        ("interval=86401", "The interval must be between 1 and 86400 seconds."),
        ("qos=3", "QoS must be 0, 1 or 2."),
        (
            "speed=3",
            "I did not understand speed=3. Give interval=<seconds> and/or qos=<0, 1 or 2>, for example "
            "interval=60 qos=1.",
        ),
        (
            "interval=-5",
            "I did not understand interval=-5. Give interval=<seconds> and/or qos=<0, 1 or 2>, for "
            "example interval=60 qos=1.",
        ),
        (
            "",
            "Send /change_config followed by a device id and the new values, for example /change_config "
            "0123456789abcdef interval=60 qos=1.",
        ),
    ],
)
def test_values_it_cannot_take_are_explained(administrator, device, values, answer):
    reply = say(administrator, f"/change_config {device.device_id} {values}")

    assert reply.text == answer
    assert reply.buttons == []


def test_the_device_service_refusing_a_value_is_answered_with_its_reason(administrator, device):
    # Only forged data gets past the command's own checks: the service is the last word.
    reply = press(administrator, f"cc:{device.device_id}:0:-:1")

    assert reply.text == "The change was refused: Send interval must be between 1 and 86400 seconds."
    assert _config(device).version == 1


def test_a_device_of_another_owner_cannot_be_changed_even_with_forged_data(administrator, foreign_device):
    assert "not found among your devices" in say(administrator, f"/change_config {foreign_device.device_id} qos=0").text

    reply = press(administrator, f"cc:{foreign_device.device_id}:30:0:1")

    assert reply.edit and "not found among your devices" in reply.text
    assert _config(foreign_device).version == 1


def test_a_confirmation_pressed_after_the_role_became_manager_is_refused(administrator, device):
    data = say(administrator, f"/change_config {device.device_id} interval=45").buttons[0][0].data
    BotUser.objects.filter(chat_id=administrator.chat_id).update(role=Role.MANAGER)

    reply = press(administrator, data)

    assert reply.text == "Only administrators can change a device's config; this chat is a manager."
    assert _config(device).version == 1


@pytest.mark.parametrize(
    "data",
    [
        "cc:",
        "cc:0123456789abcdef:30:1",
        "cc:0123456789abcdef:-:-:1",
        "cc:0123456789ABCDEF:30:1:1",
        "cc:0123456789abcdef:thirty:1:1",
        "cc:0123456789abcdef:30:1:v1",
        "cc:0123456789abcdef:9999999999:1:1",
        "cc:yes",
        "zz:1",
        "",
        "cc:" + "0" * 70,
    ],
)
def test_forged_confirmations_get_a_polite_notice_and_change_nothing(administrator, device, data):
    reply = press(administrator, data)

    assert (reply.text, reply.notice) == ("", "This button is outdated. Send the command again.")
    assert _config(device).version == 1
    assert not ConfigChange.objects.filter(source=ConfigChange.Source.TELEGRAM).exists()
