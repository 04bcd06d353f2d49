"""API tokens: named, one per user and name, listed and revoked by their user.

Logging in again under the same name (by default "default") replaces that token instead of
adding one; a user sees their own tokens (never the token itself, which is not stored) and
revokes any of them, or the one a request is sent with."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.models import ApiToken
from config.tokens import api_token_issue
from tests.concurrency import all_at_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
PROTECTED = "/api/v1/devices/"
PASSWORD = "correct-horse-battery"  # what UserFactory sets


@pytest.fixture
def user():
    return UserFactory(permissions=["devices.view_device"])


def log_in(user, **extra) -> dict:
    response = APIClient().post(LOGIN, {"username": user.username, "password": PASSWORD, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    status = with_token(token).get(PROTECTED).status_code
    assert status in (200, 401)
    return status == 200


# ------------------------------------------------------------------------------ issuing


def test_logging_in_again_replaces_the_token_instead_of_adding_one(user):
    first = log_in(user)
    second = log_in(user)

    assert first["name"] == second["name"] == "default"
    assert ApiToken.objects.filter(user=user).count() == 1
    assert not works(first["token"])
    assert works(second["token"])
    assert second["id"] == ApiToken.objects.get(user=user).id


def test_tokens_under_different_names_live_side_by_side(user):
    laptop = log_in(user)
    ci = log_in(user, name="ci")
    ci_again = log_in(user, name="ci")

    assert {t.name for t in ApiToken.objects.filter(user=user)} == {"default", "ci"}
    assert works(laptop["token"]) and works(ci_again["token"])
    assert not works(ci["token"])


def test_a_blank_name_is_the_default_name(user):
    assert log_in(user, name="  ")["name"] == "default"


def test_the_same_name_of_another_user_is_another_token(user):
    other = UserFactory(permissions=["devices.view_device"])

    mine, theirs = log_in(user, name="ci"), log_in(other, name="ci")

    assert works(mine["token"]) and works(theirs["token"])


def test_a_name_over_100_characters_is_400(user):
    response = APIClient().post(
        LOGIN, {"username": user.username, "password": PASSWORD, "name": "x" * 101}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert not ApiToken.objects.exists()


def test_a_stale_token_header_does_not_spoil_a_login(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token revoked-long-ago")

    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_logins_at_the_same_moment_under_one_name_leave_one_working_token(user):
    results = all_at_once(lambda: api_token_issue(user=user, name="burst"))

    stored = ApiToken.objects.get(user=user, name="burst")
    assert [raw for raw in results if credential_digest(raw) == stored.digest] != []
    assert sum(works(raw) for raw in results) == 1


# ------------------------------------------------------------------------------ listing


def test_a_user_lists_their_own_tokens_without_the_tokens(user):
    default, ci = log_in(user), log_in(user, name="ci")
    log_in(UserFactory())  # someone else's
    with_token(default["token"]).get(PROTECTED)  # marks it used

    response = with_token(ci["token"]).get(TOKENS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    listed = {entry["name"]: entry for entry in body["results"]}
    assert set(listed) == {"ci", "default"}
    assert set(listed["default"]) == {"id", "name", "prefix", "created_at", "last_used_at"}
    assert listed["default"]["id"] == default["id"]
    assert listed["default"]["prefix"] == default["token"][:8]
    assert listed["default"]["last_used_at"] is not None
    for raw in (default["token"], ci["token"]):
        assert raw.encode() not in response.content
    assert credential_digest(default["token"]).encode() not in response.content


def test_listing_tokens_needs_a_user():
    response = APIClient().get(TOKENS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# ------------------------------------------------------------------------------ revoking


def test_a_user_revokes_one_of_their_tokens_by_id(user):
    default, ci = log_in(user), log_in(user, name="ci")

    response = with_token(default["token"]).delete(f"{TOKENS}{ci['id']}/")

    assert response.status_code == 204
    assert not works(ci["token"])
    assert works(default["token"])


def test_another_users_token_is_not_found_and_keeps_working(user):
    theirs = log_in(UserFactory(permissions=["devices.view_device"]))

    response = with_token(log_in(user)["token"]).delete(f"{TOKENS}{theirs['id']}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "API token not found."}
    assert works(theirs["token"])


def test_a_token_id_that_is_not_a_number_is_404(user):
    response = with_token(log_in(user)["token"]).delete(f"{TOKENS}abc/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_request_revokes_the_token_it_is_sent_with(user):
    default, ci = log_in(user), log_in(user, name="ci")

    response = with_token(default["token"]).delete(LOGIN)

    assert response.status_code == 204
    assert not works(default["token"])
    assert works(ci["token"])
    assert with_token(default["token"]).delete(LOGIN).status_code == 401


def test_revoking_the_current_token_without_one_is_a_clear_400(user):
    client = APIClient()
    client.force_authenticate(user)  # a session, not a token

    response = client.delete(LOGIN)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "This request is not authenticated with an API token (Authorization: Token <token>)."
    }


def test_revoking_the_current_token_anonymously_asks_for_a_token():
    response = APIClient().delete(LOGIN)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# ------------------------------------------------------------------------------ the admin


def test_the_admin_issues_under_the_same_rule_replacing_a_token_of_that_name(admin_client, user):
    old = log_in(user, name="ci")["token"]

    response = admin_client.post(reverse("admin:switchboard_apitoken_add"), {"user": user.pk, "name": "ci"})

    assert response.status_code == 200
    new = response.context["secret"]
    assert works(new) and not works(old)
    assert ApiToken.objects.filter(user=user).count() == 1
    assert "no longer works" in response.content.decode()


def test_the_admin_issues_under_the_default_name_when_none_is_given(admin_client, user):
    admin_client.post(reverse("admin:switchboard_apitoken_add"), {"user": user.pk, "name": ""})

    assert ApiToken.objects.get(user=user).name == "default"


# ------------------------------------------------------------------------------ the schema


def test_the_token_endpoints_are_in_the_schema(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert set(paths["/api/v1/auth/token/"]) == {"post", "delete"}
    assert set(paths["/api/v1/auth/tokens/"]) == {"get"}
    assert set(paths["/api/v1/auth/tokens/{id}/"]) == {"delete"}
    assert paths["/api/v1/auth/token/"]["post"]["security"] == [{}]
    assert {"apiToken": []} in paths["/api/v1/auth/token/"]["delete"]["security"]
