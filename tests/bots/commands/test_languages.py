"""Answers come in the chat's language: a person's follows their client (ru, uk, else English),
a group keeps the one it started with or the one the admin set."""

import dataclasses

import pytest

from bots.models import BotUser, Role
from tests.bots.commands.conftest import bot_user_of, connect, group_chat, press, private_chat, say
from tests.factories import register_device

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language_code", "language", "greeting"),
    [
        ("ru", "ru", "Здравствуйте!"),
        ("uk-UA", "uk", "Вітаю!"),
        ("en-GB", "en", "Hello!"),
        ("de", "en", "Hello!"),
        ("", "en", "Hello!"),
    ],
)
def test_a_person_is_answered_in_their_clients_language_english_otherwise(language_code, language, greeting):
    chat = private_chat(language_code=language_code)

    reply = say(chat, "/start")

    assert reply.text.startswith(greeting)
    assert bot_user_of(chat).language == language


def test_a_person_who_switches_their_client_is_answered_in_the_new_language():
    chat = private_chat(language_code="en")
    say(chat, "/start")

    reply = say(dataclasses.replace(chat, language_code="uk"), "/chatid")

    assert reply.text == f"Ідентифікатор цього чату: {chat.chat_id}."


def test_a_language_the_admin_fixed_is_kept_whatever_the_client_says():
    chat = private_chat(language_code="ru")
    say(chat, "/start")
    BotUser.objects.filter(chat_id=chat.chat_id).update(language="uk", language_fixed=True)

    assert say(chat, "/chatid").text.startswith("Ідентифікатор цього чату")
    assert bot_user_of(chat).language == "uk"


def test_a_group_keeps_the_language_it_started_with_whoever_writes_next(owner):
    first = group_chat(language_code="ru")
    say(first, "/start")
    english_member = dataclasses.replace(first, language_code="en", sender_username="eve")

    assert say(english_member, "/chatid").text.startswith("Идентификатор этого чата")
    assert bot_user_of(first).language == "ru"


def test_a_groups_language_set_by_the_admin_is_used():
    group = group_chat(language_code="en")
    say(group, "/start")
    BotUser.objects.filter(chat_id=group.chat_id).update(language="uk", language_fixed=True)

    assert say(group, "/help").text.startswith("Команди, доступні тут:")


def test_counts_take_the_plural_form_of_the_language(owner):
    chat = private_chat(language_code="ru")
    connect(chat, owner, Role.MANAGER)
    heads = {}
    for total in (1, 2, 5, 21):
        while BotUser.objects.get(chat_id=chat.chat_id).owner.devices.count() < total:
            register_device(owner=owner)
        heads[total] = say(chat, "/devices").text.splitlines()[0]

    assert heads == {
        1: "1 устройство, страница 1 из 1:",
        2: "2 устройства, страница 1 из 1:",
        5: "5 устройств, страница 1 из 1:",
        21: "21 устройство, страница 1 из 3:",
    }


def test_buttons_and_notices_are_translated_too(owner, device):
    chat = private_chat(language_code="uk")
    connect(chat, owner, Role.ADMINISTRATOR)

    confirm = say(chat, f"/change_config {device.device_id} interval=30")
    toggled = press(chat, "nt:off")
    forged = press(chat, "cc:nonsense")

    assert [b.label for b in confirm.buttons[0]] == ["Змінити", "Скасувати"]
    assert "Інтервал:" in confirm.text and "→ 30 с" in confirm.text
    assert toggled.notice == "Пристрій зник зі зв'язку: вимк."
    assert forged.notice == "Ця кнопка застаріла. Надішліть команду ще раз."


# Every command a reader and an administrator may send, in both languages: none answers in
# English (a text missing from a catalog, or rendered outside the chat's language, would).
COMMANDS = [
    "/start",
    "/help",
    "/chatid",
    "/devices",
    "/status {device}",
    "/status 0123456789abcdef",
    "/add_device {device}",
    "/remove_device {device}",
    "/remove_device {device}",
    "/notify",
    "/change_config {device} interval=30",
    "/change_config {device} interval=0",
    "/change_config {device} speed=1",
    "/forget_me",
    "/nonsense",
]


@pytest.mark.parametrize("language_code", ["ru", "uk"])
def test_no_command_answers_in_english_to_a_chat_of_another_language(owner, device, language_code):
    chat = private_chat(language_code=language_code)
    connect(chat, owner, Role.ADMINISTRATOR)
    english = private_chat(language_code="en")
    connect(english, owner, Role.ADMINISTRATOR)

    for command in COMMANDS:
        text = command.format(device=device.device_id)
        translated, original = say(chat, text).text, say(english, text).text
        assert translated != original, text
        assert not set(translated.split()) & {"the", "this", "device", "send", "chat", "to", "is"}, translated
