"""What counts as a command, whom it is for, and what a chat may see in /help."""

import pytest

from bots.commands.dispatch import handle_text, stray_text_reply
from bots.models import BotUser, Role
from tests.bots.commands.conftest import group_chat, private_chat, say

pytestmark = pytest.mark.django_db


def test_private_text_that_is_no_command_is_left_to_the_operator_bridge():
    chat = private_chat()

    assert handle_text(chat, "hello, is anyone there?") is None
    assert handle_text(chat, "/etc/hosts is where names live") is None
    assert not BotUser.objects.exists()  # the bridge touches whom it serves


def test_while_there_is_no_bridge_stray_private_text_is_pointed_to_help():
    reply = stray_text_reply(private_chat())

    assert reply.text == "I understand commands only. Send /help to see them."


def test_a_group_ignores_text_and_commands_it_does_not_know_unless_addressed():
    group = group_chat()

    assert handle_text(group, "good morning") == []
    assert handle_text(group, "/weather") == []  # another bot's, perhaps
    assert not BotUser.objects.exists()
    reply = say(group, "/weather@switchboard_bot", bot_username="switchboard_bot")
    assert reply.text == "I don't know the command /weather. Send /help to see the commands."


def test_a_command_addressed_to_another_bot_is_not_ours():
    assert handle_text(group_chat(), "/chatid@other_bot", bot_username="switchboard_bot") == []
    assert handle_text(private_chat(), "/chatid@other_bot", bot_username="@switchboard_bot") == []


def test_a_command_addressed_to_this_bot_is_answered_whatever_its_case():
    group = group_chat()

    reply = say(group, "/ChatId@Switchboard_Bot", bot_username="@switchboard_bot")

    assert reply.text == f"This chat's id is {group.chat_id}."


def test_an_unknown_private_command_gets_a_pointer_to_help():
    reply = say(private_chat(), "/frobnicate now")

    assert reply.text == "I don't know the command /frobnicate. Send /help to see the commands."


def test_chatid_answers_the_chat_id_and_registers_the_chat():
    chat = private_chat(username="ann", name="Ann Lee")

    reply = say(chat, "/chatid")

    assert reply.text == f"This chat's id is {chat.chat_id}."
    bot_user = BotUser.objects.get(chat_id=chat.chat_id)
    assert (bot_user.username, bot_user.display_name, bot_user.role) == ("ann", "Ann Lee", Role.NONE)


def _help_commands(chat) -> list[str]:
    lines = say(chat, "/help").text.splitlines()
    return [line.split(" ")[0] for line in lines if line.startswith("/")]


def test_help_lists_only_what_a_chat_without_access_may_use_and_how_to_get_access(stranger):
    assert _help_commands(stranger) == ["/start", "/help", "/chatid", "/forget_me"]
    assert "Ask an administrator of the hub for an invitation link" in say(stranger, "/help").text


def test_help_lists_the_reading_commands_for_a_manager(manager):
    assert _help_commands(manager) == [
        "/start",
        "/help",
        "/chatid",
        "/devices",
        "/status",
        "/add_device",
        "/remove_device",
        "/notify",
        "/forget_me",
    ]
    assert "Ask an administrator" not in say(manager, "/help").text


def test_help_adds_config_changes_for_an_administrator(administrator):
    help_text = say(administrator, "/help").text

    assert "/change_config <device_id> interval=<s> qos=<n> — change a device's send interval and MQTT QoS" in help_text
    assert _help_commands(administrator).index("/change_config") == 8


@pytest.mark.parametrize("command", ["/devices", "/status 0123456789abcdef", "/add_device x", "/notify"])
def test_a_chat_without_access_asking_for_devices_is_told_how_to_get_access(stranger, command):
    reply = say(stranger, command)

    assert reply.text.startswith("This chat has no access to any devices yet.")
    assert reply.buttons == []


def test_a_manager_asking_to_change_a_config_is_told_only_administrators_can(manager, device):
    reply = say(manager, f"/change_config {device.device_id} interval=30")

    assert reply.text == "Only administrators can change a device's config; this chat is a manager."
