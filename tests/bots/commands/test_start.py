"""/start: a chat registers without access, or opens an invitation that gives it an owner's
devices with a role; every way an invitation can be no good is said in plain words."""

import datetime as dt

import pytest
from django.utils import timezone

from bots.invitations import invitation_create, invitation_revoke
from bots.models import BotUser, Invitation, Role, Subscription
from devices.models import DeviceEvent
from tests.bots.commands.conftest import bot_user_of, group_chat, private_chat, say

pytestmark = pytest.mark.django_db


def test_start_alone_registers_the_chat_without_access_and_says_how_to_get_it():
    chat = private_chat()

    reply = say(chat, "/start")

    assert reply.text.startswith("Hello! I tell the people who run a device fleet what happens to it.")
    assert "Ask an administrator of the hub for an invitation link and open it here" in reply.text
    bot_user = bot_user_of(chat)
    assert (bot_user.owner, bot_user.role, bot_user.has_access) == (None, Role.NONE, False)
    # Told every kind once it gets access; told nothing before (it has no devices).
    assert set(Subscription.objects.filter(bot_user=bot_user).values_list("event_kind", flat=True)) == set(
        DeviceEvent.Kind.values
    )


def test_an_invitation_gives_the_owners_devices_with_its_role(owner):
    chat = private_chat()
    _, token = invitation_create(owner=owner, role=Role.ADMINISTRATOR)

    reply = say(chat, f"/start {token}")

    assert reply.text.startswith(
        f"Welcome! This chat has access to the devices of {owner.name} as administrator "
        "(notifications, reads and config changes)."
    )
    bot_user = bot_user_of(chat)
    assert (bot_user.owner, bot_user.role) == (owner, Role.ADMINISTRATOR)


def test_a_group_opens_an_invitation_with_the_bots_name_appended(owner):
    group = group_chat()
    _, token = invitation_create(owner=owner, role=Role.MANAGER)

    reply = say(group, f"/start@switchboard_bot {token}", bot_username="switchboard_bot")

    assert "as manager (notifications and reads)" in reply.text
    assert bot_user_of(group).is_group and bot_user_of(group).owner == owner


def test_start_alone_after_access_says_what_the_chat_has(manager, owner):
    reply = say(manager, "/start")

    assert reply.text == (
        f"This chat has access to the devices of {owner.name} as manager (notifications and reads).\n"
        "Send /help to see the commands."
    )


def test_an_expired_invitation_opens_nothing(owner):
    invitation, token = invitation_create(owner=owner, role=Role.MANAGER)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    chat = private_chat()

    reply = say(chat, f"/start {token}")

    assert reply.text == "This invitation has expired. Ask for a new one."
    assert not bot_user_of(chat).has_access


def test_a_single_use_invitation_lets_in_one_chat_only(owner):
    _, token = invitation_create(owner=owner, role=Role.MANAGER)
    first, second = private_chat(), private_chat()

    say(first, f"/start {token}")
    reply = say(second, f"/start {token}")

    assert reply.text == "This invitation has been used up. Ask for a new one."
    assert bot_user_of(first).has_access and not bot_user_of(second).has_access


def test_the_chat_it_let_in_may_open_the_same_link_again_without_spending_a_use(owner):
    invitation, token = invitation_create(owner=owner, role=Role.MANAGER, max_uses=2)
    chat = private_chat()

    say(chat, f"/start {token}")
    reply = say(chat, f"/start {token}")

    assert reply.text.startswith("Welcome!")
    invitation.refresh_from_db()
    assert invitation.uses == 1


def test_a_limited_use_invitation_lets_in_as_many_chats_as_it_allows(owner):
    _, token = invitation_create(owner=owner, role=Role.MANAGER, max_uses=2)
    chats = [private_chat(), group_chat(), private_chat()]

    answers = [say(chat, f"/start {token}").text for chat in chats]

    assert answers[0].startswith("Welcome!") and answers[1].startswith("Welcome!")
    assert answers[2] == "This invitation has been used up. Ask for a new one."
    assert BotUser.objects.filter(owner=owner).count() == 2


def test_a_revoked_invitation_opens_nothing(owner):
    invitation, token = invitation_create(owner=owner, role=Role.MANAGER)
    invitation_revoke(invitation=invitation)

    reply = say(private_chat(), f"/start {token}")

    assert reply.text == "This invitation was withdrawn. Ask for a new one."


@pytest.mark.parametrize("token", ["not-a-token", "x" * 65, "ab" * 16])
def test_an_unknown_token_opens_nothing(owner, token):
    invitation_create(owner=owner, role=Role.MANAGER)
    chat = private_chat()

    reply = say(chat, f"/start {token}")

    assert reply.text == ("This invitation is not valid. Check that the link was copied whole, or ask for a new one.")
    assert not bot_user_of(chat).has_access
