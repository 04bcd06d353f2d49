"""API tokens on the management API (POST /api/v1/auth/token/): a username and password get a
working token of which only the digest is stored; wrong credentials and inactive users get none."""

import pytest
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.models import ApiToken
from config.tokens import api_token_issue
from tests.devices.api.helpers import DEVICES, with_token

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


PASSWORD = "correct-horse-battery"  # what UserFactory sets


# ------------------------------------------------------------------------------------ tokens


def test_a_user_exchanges_username_and_password_for_a_working_token(staff_user):
    response = APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 201
    token = response.json()["token"]
    assert with_token(token).get(DEVICES).status_code == 200


def test_only_the_digest_of_a_token_is_stored(staff_user):
    token = (
        APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json").json()["token"]
    )

    stored = ApiToken.objects.get(user=staff_user)
    assert stored.digest == credential_digest(token)
    assert token not in {stored.digest, stored.prefix, stored.name}


@pytest.mark.parametrize(
    "credentials", [{"password": "wrong"}, {"username": "nobody"}], ids=["wrong password", "unknown user"]
)
def test_wrong_credentials_get_no_token(staff_user, credentials):
    body = {"username": staff_user.username, "password": PASSWORD, **credentials}

    response = APIClient().post(TOKEN, body, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token_and_loses_the_tokens_it_had(staff_user):
    token = api_token_issue(user=staff_user)
    staff_user.is_active = False
    staff_user.save()

    assert (
        APIClient().post(TOKEN, {"username": staff_user.username, "password": PASSWORD}, format="json").status_code
        == 401
    )
    assert with_token(token).get(DEVICES).status_code == 401


def test_a_token_request_without_fields_is_400():
    response = APIClient().post(TOKEN, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_an_unknown_token_is_401():
    response = with_token("made-up").get(DEVICES)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
