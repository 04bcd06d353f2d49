"""/api/v1/bots/bot-users/: listed (with what they follow and are subscribed to), filtered, their
role, owner, language and state changed through `bots.services`, deleted; model permissions; bad
input a 400 that names the field."""

import pytest

from bots.models import BotUser, Role, SentMessage
from tests.bots.admin.helpers import make_bot_user, make_delivered_event
from tests.clients import as_user
from tests.factories import OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bots/bot-users/"


@pytest.fixture
def staff():
    return as_user(UserFactory(permissions=["bots.view_botuser", "bots.change_botuser", "bots.delete_botuser"]))


def test_a_bot_user_with_what_it_follows_and_is_told(staff, owner, device):
    chat = make_bot_user(role=Role.MANAGER, owner=owner, language="ru")
    chat.followed.create(device=device)
    chat.subscriptions.create(event_kind="device.offline")
    chat.subscriptions.create(event_kind="device.online")

    body = staff.get(f"{URL}{chat.pk}/").json()

    assert body["chat_id"] == chat.chat_id and body["username"] == chat.username
    assert (body["role"], body["owner"], body["language"], body["is_active"]) == ("manager", owner.slug, "ru", True)
    assert body["followed_devices"] == [device.device_id]
    assert sorted(body["subscriptions"]) == ["device.offline", "device.online"]


def test_the_list_filters_and_searches(staff, owner):
    manager = make_bot_user(role=Role.MANAGER, owner=owner, username="night_shift")
    group = make_bot_user(chat_type=BotUser.ChatType.GROUP, chat_id="-5001", is_active=False)
    OwnerFactory()

    def ids(**query):
        response = staff.get(URL, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [group.pk, manager.pk]
    assert ids(owner=owner.slug) == [manager.pk]
    assert ids(role="manager") == [manager.pk]
    assert ids(chat_type="group") == [group.pk]
    assert ids(is_active="false") == [group.pk]
    assert ids(search="night") == [manager.pk]
    assert ids(search="-5001") == [group.pk]
    assert staff.get(URL, {"role": "owner"}).status_code == 400


def test_patch_gives_a_role_and_an_owner(staff, owner):
    chat = make_bot_user()

    response = staff.patch(
        f"{URL}{chat.pk}/", {"role": "administrator", "owner": owner.slug, "language": "uk"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["role"], response.json()["owner"], response.json()["language"]) == (
        "administrator",
        owner.slug,
        "uk",
    )
    chat.refresh_from_db()
    assert (chat.role, chat.owner, chat.language) == (Role.ADMINISTRATOR, owner, "uk")


def test_patch_takes_access_away(staff, owner):
    chat = make_bot_user(role=Role.MANAGER, owner=owner)

    response = staff.patch(f"{URL}{chat.pk}/", {"role": "none", "owner": None}, format="json")

    assert response.status_code == 200
    chat.refresh_from_db()
    assert not chat.has_access and chat.owner is None


def test_a_role_without_an_owner_is_a_400(staff, owner):
    chat = make_bot_user(role=Role.MANAGER, owner=owner)

    response = staff.patch(f"{URL}{chat.pk}/", {"owner": None}, format="json")

    assert response.status_code == 400
    assert "owner" in response.json()
    chat.refresh_from_db()
    assert chat.owner == owner


def test_reactivating_clears_the_last_error(staff):
    chat = make_bot_user(is_active=False, last_error="Forbidden: bot was kicked from the group chat")

    body = staff.patch(f"{URL}{chat.pk}/", {"is_active": True}, format="json").json()

    assert body["is_active"] is True and body["last_error"] == ""


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"owner": "no-such-owner"}, "owner"),
        ({"owner": ["x"]}, "owner"),
        ({"language": "de"}, "language"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"language_fixed": 3}, "language_fixed"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff, payload, field):
    chat = make_bot_user()

    response = staff.patch(f"{URL}{chat.pk}/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_the_chat_itself_cannot_be_changed(staff):
    chat = make_bot_user()

    response = staff.patch(f"{URL}{chat.pk}/", {"chat_id": "1", "username": "x", "last_error": "y"}, format="json")

    assert response.status_code == 200
    chat.refresh_from_db()
    assert chat.chat_id != "1" and chat.username != "x" and chat.last_error == ""


def test_put_and_post_are_not_offered():
    chat = make_bot_user()
    superuser = as_user(UserFactory(is_superuser=True))

    assert superuser.put(f"{URL}{chat.pk}/", {"role": "none"}, format="json").status_code == 405
    assert superuser.post(URL, {"chat_id": "1"}, format="json").status_code == 405


def test_delete_removes_the_bot_user_and_keeps_what_it_was_sent(staff, device):
    chat = make_bot_user()
    delivery = make_delivered_event(bot_user=chat, device=device)

    assert staff.delete(f"{URL}{chat.pk}/").status_code == 204

    assert not BotUser.objects.exists()
    assert SentMessage.objects.get(pk=delivery.message_id).chat_id == ""
    assert staff.get(f"{URL}{chat.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("permissions", "method", "expected"),
    [
        ([], "get", 403),
        ([], "patch", 403),
        ([], "delete", 403),
        (["bots.view_botuser"], "get", 200),
        (["bots.view_botuser"], "patch", 403),
        (["bots.view_botuser"], "delete", 403),
        (["bots.view_botuser", "bots.change_botuser"], "patch", 200),
        (["bots.view_botuser", "bots.delete_botuser"], "delete", 204),
    ],
)
def test_model_permissions(permissions, method, expected):
    chat = make_bot_user()
    client = as_user(UserFactory(permissions=permissions))

    response = getattr(client, method)(
        f"{URL}{chat.pk}/", {"language": "ru"} if method == "patch" else None, format="json"
    )

    assert response.status_code == expected
    assert BotUser.objects.filter(pk=chat.pk).exists() == (expected != 204)
