"""Chats that talk to the commands: each is an `Incoming` as an adapter would hand it, and
`say` / `press` return what the commands answer (no platform involved)."""

import itertools

import pytest

from bots.commands.dispatch import handle_callback, handle_text
from bots.commands.incoming import Incoming
from bots.invitations import invitation_create
from bots.models import BotUser, Role
from tests.factories import OwnerFactory, register_device

_chat_ids = itertools.count(100_001)


def private_chat(*, username: str = "alice", name: str = "Alice Smith", language_code: str = "en") -> Incoming:
    chat_id = str(next(_chat_ids))
    return Incoming(
        platform="telegram",
        chat_id=chat_id,
        chat_type="private",
        username=username,
        display_name=name,
        language_code=language_code,
        sender_username=username,
        sender_name=name,
    )


def group_chat(
    *, title: str = "Night shift", sender_username: str = "bob", sender_name: str = "Bob", language_code: str = "en"
) -> Incoming:
    return Incoming(
        platform="telegram",
        chat_id=str(-next(_chat_ids)),
        chat_type="supergroup",
        display_name=title,
        language_code=language_code,
        sender_username=sender_username,
        sender_name=sender_name,
    )


def say(chat: Incoming, text: str, **kwargs):
    """The one reply to `text` (most commands answer once)."""
    replies = handle_text(chat, text, **kwargs)
    assert replies is not None and len(replies) == 1, replies
    return replies[0]


def press(chat: Incoming, data: str):
    return handle_callback(chat, data)


def bot_user_of(chat: Incoming) -> BotUser:
    return BotUser.objects.get(platform=chat.platform, chat_id=chat.chat_id)


def connect(chat: Incoming, owner, role: str = Role.MANAGER) -> BotUser:
    """Give the chat access the way people do: an invitation opened with /start <token>."""
    _, token = invitation_create(owner=owner, role=role)
    reply = say(chat, f"/start {token}")
    assert "Welcome" in reply.text or "Ласкаво" in reply.text or "Добро" in reply.text, reply.text
    return bot_user_of(chat)


@pytest.fixture
def other_owner():
    return OwnerFactory()


@pytest.fixture
def manager(owner) -> Incoming:
    chat = private_chat(username="mona", name="Mona")
    connect(chat, owner, Role.MANAGER)
    return chat


@pytest.fixture
def administrator(owner) -> Incoming:
    chat = private_chat(username="adam", name="Adam")
    connect(chat, owner, Role.ADMINISTRATOR)
    return chat


@pytest.fixture
def stranger() -> Incoming:
    """A chat that sent /start and nothing else: no access."""
    chat = private_chat(username="sam", name="Sam")
    say(chat, "/start")
    return chat


@pytest.fixture
def foreign_device(other_owner):
    """A device of another owner: no chat of `owner` may learn it exists."""
    return register_device(owner=other_owner)
