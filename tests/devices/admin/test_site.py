"""What the admin site as a whole adds (config/admin.py): its header, and API tokens shown once when
issued, authenticating until deleted, and issued by staff only for themselves."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.credentials import credential_digest
from config.models import ApiToken
from tests.clients import login
from tests.devices.admin.helpers import messages_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# -------------------------------------------------------------------------------- API tokens


def test_adding_an_api_token_shows_it_once_and_it_authenticates(admin_client):
    user = UserFactory(permissions=["devices.view_device"])

    response = admin_client.post(reverse("admin:switchboard_apitoken_add"), {"user": user.pk, "name": "ci"})

    assert response.status_code == 200
    raw = response.context["secret"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.digest) == (user, "ci", credential_digest(raw))
    assert raw in response.content.decode() and token.digest not in response.content.decode()
    assert messages_of(response) == []
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/devices/").status_code == 200
    listing = admin_client.get(reverse("admin:switchboard_apitoken_changelist")).content.decode()
    assert token.prefix in listing and raw not in listing and token.digest not in listing


def test_a_deleted_api_token_no_longer_authenticates(admin_client):
    raw = admin_client.post(
        reverse("admin:switchboard_apitoken_add"), {"user": UserFactory(permissions=["devices.view_device"]).pk}
    ).context["secret"]
    token = ApiToken.objects.get()

    response = admin_client.post(reverse("admin:switchboard_apitoken_delete", args=[token.pk]), {"post": "yes"})

    assert response.status_code == 302 and not ApiToken.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/devices/").status_code == 401


def test_staff_may_issue_api_tokens_only_for_themselves(superuser):
    staff = UserFactory(is_staff=True, permissions=["switchboard.add_apitoken", "switchboard.view_apitoken"])
    client = login(staff)

    for_superuser = client.post(reverse("admin:switchboard_apitoken_add"), {"user": superuser.pk})
    for_self = client.post(reverse("admin:switchboard_apitoken_add"), {"user": staff.pk})

    assert for_superuser.status_code == 200 and "user" in for_superuser.context["adminform"].form.errors
    assert for_self.status_code == 200 and "secret" in for_self.context
    assert list(ApiToken.objects.values_list("user", flat=True)) == [staff.pk]


def test_site_header_is_switchboard(admin_client):
    assert admin_client.get(reverse("admin:index")).context["site_header"] == "Switchboard"
