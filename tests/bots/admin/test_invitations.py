"""Making an invitation in the admin: its deep link and QR code are on the page that answers the
form and on no page after it (only the token's digest is stored); the token lets a chat in, a
revoked invitation does not."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from bots import invitations
from bots.models import Invitation, Role
from config.credentials import credential_digest
from integrations.secrets.services import setting_set
from tests.bots.admin.helpers import make_bot_user
from tests.clients import login
from tests.devices.admin.helpers import messages_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:bots_invitation_add")
CHANGELIST = reverse("admin:bots_invitation_changelist")


def form(owner_row, **fields) -> dict:
    return {
        "owner": owner_row.pk,
        "role": Role.ADMINISTRATOR,
        "lifetime_days": 2,
        "lifetime_hours": 6,
        "max_uses": 3,
        "note": "night shift group",
        **fields,
    }


@pytest.fixture
def bot_username():
    setting_set(key="TELEGRAM_BOT_USERNAME", value="switchboard_test_bot")


def test_the_link_and_its_qr_code_are_shown_once(admin_client, admin_user, owner, bot_username):
    response = admin_client.post(ADD, form(owner))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token, link = response.context["token"], response.context["link"]
    assert link == f"https://t.me/switchboard_test_bot?start={token}"
    page = response.content.decode()
    assert f'value="{link}"' in page
    assert re.search(r'<div id="invitation-qr"><svg [^>]*viewBox="0 0 \d+ \d+"', page)  # inline, not escaped
    invitation = Invitation.objects.get()
    assert invitation.token_digest == credential_digest(token)
    assert (invitation.owner, invitation.role, invitation.max_uses, invitation.note) == (
        owner,
        Role.ADMINISTRATOR,
        3,
        "night shift group",
    )
    assert invitation.created_by == admin_user
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime.total_seconds() - (2 * 24 + 6) * 3600) < 60
    assert messages_of(response) == []  # messages may live in a cookie: the token is never in one

    for url in (CHANGELIST, reverse("admin:bots_invitation_change", args=[invitation.pk])):
        later = admin_client.get(url).content.decode()
        assert token not in later and invitation.token_digest not in later
        assert invitation.token_prefix in later
    assert token not in LogEntry.objects.get(object_id=str(invitation.pk)).change_message


def test_the_token_lets_a_chat_in(admin_client, owner, bot_username):
    token = admin_client.post(ADD, form(owner, role=Role.MANAGER)).context["token"]
    chat = make_bot_user()

    invitations.invitation_redeem(bot_user=chat, token=token)

    chat.refresh_from_db()
    assert (chat.owner, chat.role) == (owner, Role.MANAGER)


def test_without_a_bot_username_the_page_says_how_to_use_the_token(admin_client, owner):
    response = admin_client.post(ADD, form(owner))

    assert response.status_code == 200
    assert response.context["link"] is None
    page = response.content.decode()
    assert "TELEGRAM_BOT_USERNAME" in page
    assert f"/start {response.context['token']}" in page
    assert "invitation-qr" not in page
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lifetime_days": 0, "lifetime_hours": 0}, "lifetime_days"),
        ({"lifetime_days": 90, "lifetime_hours": 1}, "lifetime_days"),
        ({"lifetime_days": 91}, "lifetime_days"),
        ({"lifetime_hours": 24}, "lifetime_hours"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 1001}, "max_uses"),
        ({"role": Role.NONE}, "role"),
        ({"owner": ""}, "owner"),
    ],
)
def test_a_bad_invitation_is_a_form_error(admin_client, owner, fields, field):
    response = admin_client.post(ADD, form(owner, **fields))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Invitation.objects.exists()


def test_an_invitation_is_never_edited_or_deleted(admin_client, owner):
    invitation, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    change = reverse("admin:bots_invitation_change", args=[invitation.pk])

    assert admin_client.get(change).context["has_change_permission"] is False
    admin_client.post(change, {"role": Role.ADMINISTRATOR, "max_uses": 50})
    assert admin_client.post(reverse("admin:bots_invitation_delete", args=[invitation.pk])).status_code == 403
    invitation.refresh_from_db()
    assert (invitation.role, invitation.max_uses) == (Role.MANAGER, 1)


def test_revoking_ends_the_invitation(admin_client, owner):
    revoked, revoked_token = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    kept, kept_token = invitations.invitation_create(owner=owner, role=Role.MANAGER)

    response = admin_client.post(
        CHANGELIST, {"action": "revoke", "index": 0, ACTION_CHECKBOX_NAME: [revoked.pk]}, follow=True
    )

    assert messages_of(response) == ["Revoked 1 invitation(s); chats already let in keep their access."]
    revoked.refresh_from_db()
    assert revoked.revoked_at is not None
    with pytest.raises(invitations.InvitationInvalid) as refused:
        invitations.invitation_redeem(bot_user=make_bot_user(), token=revoked_token)
    assert refused.value.reason == "revoked"
    invitations.invitation_redeem(bot_user=make_bot_user(), token=kept_token)
    states = admin_client.get(CHANGELIST, {"state": "revoked"}).context["cl"].result_list
    assert list(states) == [revoked]


def test_the_list_shows_each_state(admin_client, owner):
    used, token = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    invitations.invitation_redeem(bot_user=make_bot_user(), token=token)
    invitations.invitation_create(owner=owner, role=Role.MANAGER, max_uses=5)

    page = admin_client.get(CHANGELIST)

    shown = {row.pk: page.context["cl"].model_admin.state(row) for row in page.context["cl"].result_list}
    assert sorted(shown.values()) == ["open", "used up"]
    assert "1/1" in page.content.decode() and "0/5" in page.content.decode()
    assert [i.pk for i in admin_client.get(CHANGELIST, {"state": "used"}).context["cl"].result_list] == [used.pk]


def test_staff_who_may_only_view_invitations_cannot_make_or_revoke_one(owner):
    invitation, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    client = login(UserFactory(is_staff=True, permissions=["bots.view_invitation"]))

    assert client.get(CHANGELIST).status_code == 200
    assert client.post(ADD, form(owner)).status_code == 403
    client.post(CHANGELIST, {"action": "revoke", "index": 0, ACTION_CHECKBOX_NAME: [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert not Invitation.objects.exclude(pk=invitation.pk).exists()
