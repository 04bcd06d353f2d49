"""Bot users in the admin: role, owner, language and state edited through `bots.services` (a role
needs an owner), deleted, and the test message sent to the fake Telegram — a blocked chat
deactivates its bot user, a group that moved is followed to its new chat id."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from bots.models import BotUser, Role, SentMessage
from tests.bots.admin.helpers import fake_telegram, make_bot_user, make_delivered_event
from tests.clients import change_form_data, login
from tests.devices.admin.helpers import messages_of
from tests.factories import OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:bots_botuser_changelist")


def change_url(bot_user: BotUser) -> str:
    return reverse("admin:bots_botuser_change", args=[bot_user.pk])


def edit(client, bot_user: BotUser, **changes):
    data = change_form_data(client.get(change_url(bot_user)))
    for name, value in changes.items():
        if value is None or value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return client.post(change_url(bot_user), data)


def send_test_message(client, *bot_users):
    data = {"action": "send_test_message", "index": 0, ACTION_CHECKBOX_NAME: [u.pk for u in bot_users]}
    return client.post(CHANGELIST, data, follow=True)


# ------------------------------------------------------------------------------- editing


def test_giving_a_chat_a_role_and_an_owner(admin_client, owner):
    chat = make_bot_user()

    response = edit(admin_client, chat, role=Role.ADMINISTRATOR, owner=owner.pk, language="uk", language_fixed=True)

    assert response.status_code == 302, response.context["adminform"].form.errors
    chat.refresh_from_db()
    assert (chat.role, chat.owner, chat.language, chat.language_fixed) == (Role.ADMINISTRATOR, owner, "uk", True)
    assert chat.has_access


def test_a_role_without_an_owner_is_a_form_error(admin_client):
    chat = make_bot_user()

    response = edit(admin_client, chat, role=Role.MANAGER)

    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    chat.refresh_from_db()
    assert chat.role == Role.NONE


def test_a_chat_that_sees_all_owners_needs_no_owner(admin_client):
    chat = make_bot_user()

    response = edit(admin_client, chat, role=Role.MANAGER, sees_all_owners=True)

    assert response.status_code == 302
    chat.refresh_from_db()
    assert chat.sees_all_owners and chat.has_access


def test_reactivating_a_chat_clears_its_last_error(admin_client):
    chat = make_bot_user(is_active=False, last_error="Forbidden: bot was blocked by the user")

    assert edit(admin_client, chat, is_active=True).status_code == 302

    chat.refresh_from_db()
    assert chat.is_active and chat.last_error == ""


def test_the_chat_itself_is_not_editable(admin_client):
    chat = make_bot_user()

    edit(admin_client, chat, chat_id="999", username="someone_else")

    chat.refresh_from_db()
    assert chat.chat_id != "999" and chat.username != "someone_else"


def test_deleting_a_bot_user_keeps_what_it_was_sent_without_its_chat_id(admin_client, device):
    chat = make_bot_user()
    delivery = make_delivered_event(bot_user=chat, device=device)

    response = admin_client.post(reverse("admin:bots_botuser_delete", args=[chat.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not BotUser.objects.exists()
    message = SentMessage.objects.get(pk=delivery.message_id)
    assert (message.bot_user, message.chat_id, message.event_count) == (None, "", 1)


def test_staff_who_may_only_view_bot_users_cannot_change_one(owner):
    chat = make_bot_user()
    client = login(UserFactory(is_staff=True, permissions=["bots.view_botuser"]))

    assert client.get(change_url(chat)).status_code == 200
    assert client.post(change_url(chat), {"role": Role.MANAGER, "owner": owner.pk}).status_code == 403
    chat.refresh_from_db()
    assert chat.role == Role.NONE


# -------------------------------------------------------------------------- test message


def test_the_test_message_reaches_each_chat(admin_client, settings):
    private, group = make_bot_user(), make_bot_user(chat_id="-4001", chat_type=BotUser.ChatType.GROUP, language="ru")

    with fake_telegram(settings) as fake:
        response = send_test_message(admin_client, private, group)

        assert [m["text"] for m in fake.messages_to(private.chat_id)] == ["Test message from Switchboard ✓"]
        assert len(fake.messages_to(-4001)) == 1
        assert "parse_mode" not in fake.calls[-1]["params"]
    shown = messages_of(response)
    assert len(shown) == 2 and all("test message sent" in m for m in shown)


def test_a_chat_that_blocked_the_bot_is_deactivated(admin_client, settings):
    chat = make_bot_user(role=Role.MANAGER, owner=OwnerFactory())

    with fake_telegram(settings) as fake:
        fake.chat_behaviour(int(chat.chat_id), "blocked")
        response = send_test_message(admin_client, chat)

    [shown] = messages_of(response)
    assert "not sent" in shown and "deactivated" in shown
    chat.refresh_from_db()
    assert not chat.is_active
    assert chat.last_error.endswith("bot was blocked by the user")


def test_a_chat_that_is_not_found_is_deactivated_too(admin_client, settings):
    chat = make_bot_user()

    with fake_telegram(settings) as fake:
        fake.chat_behaviour(int(chat.chat_id), "not_found")
        send_test_message(admin_client, chat)

    chat.refresh_from_db()
    assert not chat.is_active and "chat not found" in chat.last_error.lower()


def test_a_group_that_became_a_supergroup_is_followed_and_told(admin_client, settings):
    group = make_bot_user(chat_id="-4012345", chat_type=BotUser.ChatType.GROUP)

    with fake_telegram(settings) as fake:
        fake.chat_behaviour(-4012345, ("migrated", -1001234567890))
        response = send_test_message(admin_client, group)

        assert len(fake.messages_to(-1001234567890)) == 1
        assert fake.messages_to(-4012345) == []
    assert "test message sent" in messages_of(response)[0]
    group.refresh_from_db()
    assert (group.chat_id, group.chat_type, group.is_active) == ("-1001234567890", "supergroup", True)


def test_a_group_that_moved_to_a_chat_already_known_becomes_one_bot_user_there(admin_client, settings):
    group = make_bot_user(chat_id="-4012345", chat_type=BotUser.ChatType.GROUP)
    make_bot_user(chat_id="-1001234567890", chat_type=BotUser.ChatType.SUPERGROUP)

    with fake_telegram(settings) as fake:
        fake.chat_behaviour(-4012345, ("migrated", -1001234567890))
        send_test_message(admin_client, group)

        assert [message["chat_id"] for message in fake.messages] == [-1001234567890]
    (survivor,) = BotUser.objects.all()
    assert survivor.chat_id == "-1001234567890"


def test_telegram_asking_to_wait_is_reported_and_changes_nothing(admin_client, settings):
    chat = make_bot_user()

    with fake_telegram(settings) as fake:
        fake.force_429(retry_after=15)
        response = send_test_message(admin_client, chat)

    [shown] = messages_of(response)
    assert "not sent" in shown and "wait 15 s" in shown
    chat.refresh_from_db()
    assert chat.is_active and chat.last_error == ""


def test_telegram_unreachable_is_reported(admin_client, settings):
    chat = make_bot_user()

    with fake_telegram(settings) as fake:
        fake.force_status(502, times=5)
        response = send_test_message(admin_client, chat)

    assert "Telegram is not reachable" in messages_of(response)[0]
    chat.refresh_from_db()
    assert chat.is_active


def test_without_a_token_nothing_is_sent_and_the_page_says_so(admin_client):
    chat = make_bot_user()

    response = send_test_message(admin_client, chat)

    assert "TELEGRAM_BOT_TOKEN is not set" in messages_of(response)[0]


def test_too_many_chats_at_once_are_refused(admin_client, settings):
    chats = [make_bot_user() for _ in range(21)]

    with fake_telegram(settings) as fake:
        response = send_test_message(admin_client, *chats)

        assert fake.messages == []
    assert messages_of(response) == ["Select at most 20 bot users for a test message."]


def test_staff_who_may_only_view_bot_users_cannot_send_a_test_message(settings):
    chat = make_bot_user()
    client = login(UserFactory(is_staff=True, permissions=["bots.view_botuser"]))

    with fake_telegram(settings) as fake:
        send_test_message(client, chat)

        assert fake.messages == []
