"""The commands end to end: updates posted to the webhook as Telegram posts them, handled by a real
Celery worker, answered through the fake Bot API — role checks, invitations, scoping, and a
config change confirmed with its button."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from bots import invitations
from bots.models import BotUser, Invitation, Role
from devices.models import ConfigChange
from tests.factories import OwnerFactory, register_device
from tests.workers import wait_until

_update_ids = itertools.count(900_000_001)


def message(chat_id: int, text: str, *, username: str = "olga_p") -> dict:
    person = {"id": chat_id, "is_bot": False, "first_name": "Olga", "username": username, "language_code": "en"}
    chat = {"id": chat_id, "type": "private", "first_name": "Olga", "username": username}
    return {
        "update_id": next(_update_ids),
        "message": {"message_id": 1, "from": person, "chat": chat, "date": 1764680000, "text": text},
    }


def press(chat_id: int, message_id: int, data: str, *, username: str = "olga_p") -> dict:
    person = {"id": chat_id, "is_bot": False, "first_name": "Olga", "username": username, "language_code": "en"}
    chat = {"id": chat_id, "type": "private", "first_name": "Olga", "username": "olga_p"}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"press-{chat_id}-{message_id}-{data}"[:64],
            "from": person,
            "message": {"message_id": message_id, "chat": chat, "date": 1764680000, "text": "…"},
            "chat_instance": "1",
            "data": data,
        },
    }


@pytest.fixture
def ask(celery_worker, fake_telegram, webhook_secret, post_update):
    """Post a text as a chat and wait for the bot's answer to it (its text)."""

    def ask(chat_id: int, text: str, **kwargs) -> str:
        before = len(fake_telegram.messages_to(chat_id))
        assert post_update(message(chat_id, text, **kwargs)).status_code == 200
        wait_until(lambda: len(fake_telegram.messages_to(chat_id)) > before)
        return fake_telegram.messages_to(chat_id)[-1]["text"]

    return ask


@pytest.fixture
def fleet(transactional_db):
    acme, other = OwnerFactory(slug="acme"), OwnerFactory(slug="globex")
    return {"acme": acme, "device": register_device(owner=acme), "foreign": register_device(owner=other)}


def chat_with(chat_id: int, role: str, owner) -> BotUser:
    return BotUser.objects.create(chat_id=str(chat_id), role=role, owner=owner)


def test_a_chat_without_access_sees_nothing_and_is_told_how_to_get_it(ask, fleet):
    assert ask(101, "/start").startswith("Hello! I tell the people who run a device fleet")
    assert "no access to any devices yet" in ask(101, "/devices")
    assert "no access to any devices yet" in ask(101, f"/status {fleet['device'].device_id}")
    assert ask(101, "/chatid") == "This chat's id is 101."
    assert "/devices" not in ask(101, "/help")


def test_invitations_let_a_chat_in_once_and_refuse_expired_used_and_wrong_tokens(ask, fleet):
    _, single = invitations.invitation_create(owner=fleet["acme"], role=Role.MANAGER)
    expired, expired_token = invitations.invitation_create(owner=fleet["acme"], role=Role.MANAGER)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert ask(201, f"/start {single}").startswith("Welcome! This chat has access to the devices of")
    assert "used up" in ask(202, f"/start {single}")
    assert "expired" in ask(203, f"/start {expired_token}")
    assert "not valid" in ask(204, "/start not-a-token-at-all")
    assert BotUser.objects.get(chat_id="201").role == Role.MANAGER
    assert BotUser.objects.get(chat_id="202").owner is None


def test_a_manager_reads_its_owners_devices_only_and_may_not_change_configs(ask, fleet):
    chat_with(301, Role.MANAGER, fleet["acme"])
    device, foreign = fleet["device"].device_id, fleet["foreign"].device_id

    assert device in ask(301, "/devices")
    assert foreign not in ask(301, "/devices")
    assert ask(301, f"/status {device}").startswith(f"Device {device}\nOwner: ")
    assert f"Device {foreign} not found among your devices" in ask(301, f"/status {foreign}")
    assert "Now following" in ask(301, f"/add_device {device}")
    assert "Stopped following" in ask(301, f"/remove_device {device}")
    assert "Only administrators" in ask(301, f"/change_config {device} interval=30")
    assert "/change_config" not in ask(301, "/help")


def test_an_administrator_changes_a_config_by_confirming_with_the_button(ask, fleet, fake_telegram, post_update):
    chat_with(401, Role.ADMINISTRATOR, fleet["acme"])
    device = fleet["device"]

    question = ask(401, f"/change_config {device.device_id} interval=30 qos=2", username="adam")
    asked = fake_telegram.messages_to(401)[-1]
    (confirm, _cancel) = asked["reply_markup"]["inline_keyboard"][0]
    assert question.startswith(f"Change the config of {device.device_id}?")
    post_update(press(401, asked["message_id"], confirm["callback_data"], username="adam"))  # who confirms changes

    wait_until(lambda: fake_telegram.messages_to(401)[-1].get("edited"))
    assert fake_telegram.messages_to(401)[-1]["text"].startswith(f"Done: {device.device_id} has config version 2")
    device.config.refresh_from_db()
    assert (device.config.send_interval, device.config.qos, device.config.version) == (30, 2, 2)
    change = ConfigChange.objects.get(device=device, version=2)
    assert (change.source, change.actor) == ("telegram", "Telegram user @adam")


def test_unknown_commands_and_stray_text_get_a_hint(ask, fleet):
    assert (
        ask(501, "/reboot_everything") == "I don't know the command /reboot_everything. Send /help to see the commands."
    )
    assert ask(501, "hello?") == "I understand commands only. Send /help to see them."
