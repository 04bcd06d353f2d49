"""/api/v1/bots/invitations/: made with the token, link and QR code in that answer only, listed
and read without them, revoked by DELETE; model permissions; bad input a 400 that names the field."""

import pytest

from bots import invitations
from bots.models import Invitation, Role
from config.credentials import credential_digest
from integrations.secrets.services import setting_set
from tests.bots.admin.helpers import make_bot_user
from tests.clients import as_user
from tests.factories import OwnerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bots/invitations/"


@pytest.fixture
def staff():
    return as_user(UserFactory(permissions=["bots.view_invitation", "bots.add_invitation", "bots.change_invitation"]))


@pytest.fixture
def bot_username():
    setting_set(key="TELEGRAM_BOT_USERNAME", value="@switchboard_test_bot")


def test_making_an_invitation_answers_its_token_link_and_qr_code_once(staff, owner, bot_username):
    response = staff.post(
        URL,
        {"owner": owner.slug, "role": "administrator", "expires_in": 3600, "max_uses": 5, "note": "ops"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["token"]
    assert body["link"] == f"https://t.me/switchboard_test_bot?start={token}"
    assert body["qr_svg"].startswith("<svg ") and body["qr_svg"].endswith("</svg>")
    assert body["detail"] is None
    assert (body["owner"], body["role"], body["max_uses"], body["uses"], body["state"]) == (
        owner.slug,
        "administrator",
        5,
        0,
        "open",
    )
    invitation = Invitation.objects.get()
    assert invitation.token_digest == credential_digest(token)
    assert abs((invitation.expires_at - invitation.created_at).total_seconds() - 3600) < 60
    for later in (staff.get(URL), staff.get(f"{URL}{invitation.pk}/")):
        assert later.status_code == 200
        assert token not in later.content.decode() and "link" not in later.content.decode()
    chat = make_bot_user()
    invitations.invitation_redeem(bot_user=chat, token=token)
    assert (chat.owner, chat.role) == (owner, Role.ADMINISTRATOR)


def test_the_defaults_are_one_use_for_seven_days(staff, owner, bot_username):
    body = staff.post(URL, {"owner": owner.slug, "role": "manager"}, format="json").json()

    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.max_uses == 1 and invitation.note == ""
    assert abs((invitation.expires_at - invitation.created_at).total_seconds() - 7 * 24 * 3600) < 60


def test_without_a_bot_username_it_is_made_without_a_link(staff, owner):
    response = staff.post(URL, {"owner": owner.slug, "role": "manager"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["link"] is None and body["qr_svg"] is None
    assert "TELEGRAM_BOT_USERNAME" in body["detail"]
    assert Invitation.objects.get().token_digest == credential_digest(body["token"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"owner": "nobody-here"}, "owner"),
        ({"owner": "not a slug!"}, "owner"),
        ({"owner": 12}, "owner"),
        ({"role": "none"}, "role"),
        ({"role": "owner"}, "role"),
        ({"expires_in": 59}, "expires_in"),
        ({"expires_in": 90 * 24 * 3600 + 1}, "expires_in"),
        ({"expires_in": "soon"}, "expires_in"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 1001}, "max_uses"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff, owner, payload, field):
    response = staff.post(URL, {"owner": owner.slug, "role": "manager", **payload}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Invitation.objects.exists()


def test_a_body_that_is_no_object_is_a_400(staff):
    response = staff.post(URL, ["owner"], format="json")

    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_delete_revokes_and_keeps_the_record(staff, owner):
    invitation, token = invitations.invitation_create(owner=owner, role=Role.MANAGER)

    response = staff.delete(f"{URL}{invitation.pk}/")

    assert response.status_code == 204
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert staff.get(f"{URL}{invitation.pk}/").json()["state"] == "revoked"
    with pytest.raises(invitations.InvitationInvalid):
        invitations.invitation_redeem(bot_user=make_bot_user(), token=token)
    assert staff.delete(f"{URL}{invitation.pk}/").status_code == 204  # again: a no-op


def test_the_list_filters_by_owner_role_and_revoked(staff, owner):
    other = OwnerFactory()
    mine, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    theirs, _ = invitations.invitation_create(owner=other, role=Role.ADMINISTRATOR)
    invitations.invitation_revoke(invitation=theirs)

    def ids(**query):
        return [row["id"] for row in staff.get(URL, query).json()["results"]]

    assert ids() == [theirs.pk, mine.pk]
    assert ids(owner=owner.slug) == [mine.pk]
    assert ids(role="administrator") == [theirs.pk]
    assert ids(revoked="true") == [theirs.pk]
    assert ids(revoked="false") == [mine.pk]
    assert staff.get(URL, {"role": "none"}).status_code == 400


def test_an_unknown_invitation_is_a_404(staff):
    assert staff.get(f"{URL}999999/").status_code == 404
    assert staff.delete(f"{URL}999999/").status_code == 404
    assert staff.get(f"{URL}abc/").status_code == 404


@pytest.mark.parametrize(
    ("permissions", "method", "expected"),
    [
        ([], "get", 403),
        ([], "post", 403),
        ([], "delete", 403),
        (["bots.view_invitation"], "get", 200),
        (["bots.view_invitation"], "post", 403),
        (["bots.view_invitation", "bots.delete_invitation"], "delete", 403),  # revoking is a change
        (["bots.view_invitation", "bots.change_invitation"], "delete", 204),
        (["bots.add_invitation"], "post", 201),
    ],
)
def test_model_permissions(owner, permissions, method, expected):
    invitation, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    client = as_user(UserFactory(permissions=permissions))

    if method == "get":
        response = client.get(URL)
    elif method == "post":
        response = client.post(URL, {"owner": owner.slug, "role": "manager"}, format="json")
    else:
        response = client.delete(f"{URL}{invitation.pk}/")

    assert response.status_code == expected
    if expected != 204:
        assert response["Content-Type"] == "application/json"


def test_anonymous_callers_are_asked_to_authenticate(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["detail"]
