"""/api/v1/webhook-endpoints/: endpoints and their secrets for automation; a secret is shown once."""

import pytest
from rest_framework.test import APIClient

from integrations.models import WebhookEndpoint, WebhookSecret
from integrations.webhooks import endpoints
from tests.factories import UserFactory
from tests.integrations.webhooks.conftest import make_endpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"
ALL_PERMISSIONS = [f"integrations.{action}_webhookendpoint" for action in ("view", "add", "change", "delete")]
BODY = b'{"ok": true}'


@pytest.fixture
def manager():
    client = APIClient()
    client.force_authenticate(UserFactory(permissions=ALL_PERMISSIONS))
    return client


@pytest.fixture
def viewer():
    client = APIClient()
    client.force_authenticate(UserFactory(permissions=["integrations.view_webhookendpoint"]))
    return client


def create(client, **fields):
    return client.post(URL, {"name": "Shop", "scheme": "standard_webhooks", **fields}, format="json")


class TestCreate:
    def test_create_answers_the_secret_and_the_receiving_url(self, manager, post_webhook):
        response = create(manager)
        assert response.status_code == 201
        data = response.json()
        assert data["secret"].startswith("whsec_")
        assert data["url"].startswith("http://testserver/api/v1/webhooks/")
        endpoint = WebhookEndpoint.objects.get(pk=data["id"])
        assert data["url"].endswith(f"/{endpoint.token}/")
        assert data["tolerance_seconds"] == 300
        # The secret answered is the one that verifies.
        assert post_webhook(endpoint, BODY, secret=data["secret"]).status_code == 202

    def test_the_secret_is_never_shown_again(self, manager):
        secret = create(manager).json()["secret"]
        listing = manager.get(URL)
        detail = manager.get(f"{URL}{listing.json()['results'][0]['id']}/")
        for response in (listing, detail):
            assert response.status_code == 200
            assert secret not in response.content.decode()
            assert secret[-20:] not in response.content.decode()
        assert detail.json()["secrets"][0]["masked"] == "••••••" + secret[-4:]
        assert "url" in detail.json()

    def test_the_secret_is_stored_encrypted(self, manager):
        secret = create(manager).json()["secret"]
        stored = WebhookSecret.objects.get()
        assert secret not in stored.secret_encrypted

    def test_the_senders_own_secret_can_be_given(self, manager, post_webhook):
        response = create(manager, scheme="github", secret="It's a Secret to Everybody")
        assert response.status_code == 201
        assert response.json()["secret"] == "It's a Secret to Everybody"
        endpoint = WebhookEndpoint.objects.get(pk=response.json()["id"])
        assert post_webhook(endpoint, BODY, secret="It's a Secret to Everybody").status_code == 202

    @pytest.mark.parametrize(
        "fields, field",
        [
            ({"scheme": "carrier-pigeon"}, "scheme"),
            ({"secret": "whsec_short"}, "secret"),
            ({"tolerance_seconds": 0}, "tolerance_seconds"),
            ({"owner": "nobody"}, "owner"),
            ({"name": ""}, "name"),
        ],
    )
    def test_bad_input_is_a_field_error(self, manager, fields, field):
        response = create(manager, **fields)
        assert response.status_code == 400
        assert field in response.json()
        assert not WebhookEndpoint.objects.exists()

    def test_owner_is_given_by_slug(self, manager, owner):
        response = create(manager, owner=owner.slug)
        assert response.json()["owner"] == owner.slug


class TestRotate:
    def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_working(self, manager, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        response = manager.post(f"{URL}{endpoint.pk}/rotate-secret/", {}, format="json")
        assert response.status_code == 201
        new_secret = response.json()["secret"]
        assert new_secret != endpoint.secret
        assert [s["is_active"] for s in response.json()["previous_secrets"]] == [True]
        assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 202
        assert post_webhook(endpoint, BODY, secret=new_secret).status_code == 202
        assert new_secret not in manager.get(f"{URL}{endpoint.pk}/").content.decode()

    def test_rotation_can_expire_the_previous_secrets(self, manager, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        response = manager.post(f"{URL}{endpoint.pk}/rotate-secret/", {"expire_previous_in_seconds": 0}, format="json")
        assert response.json()["previous_secrets"][0]["is_active"] is False
        assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 401
        assert post_webhook(endpoint, BODY, secret=response.json()["secret"]).status_code == 202

    def test_an_old_secret_can_be_removed(self, manager, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        old = endpoint.secrets.get()
        manager.post(f"{URL}{endpoint.pk}/rotate-secret/", {}, format="json")
        response = manager.delete(f"{URL}{endpoint.pk}/secrets/{old.pk}/")
        assert response.status_code == 204
        assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 401

    def test_the_last_active_secret_cannot_be_removed(self, manager):
        endpoint = make_endpoint("hex_hmac")
        response = manager.delete(f"{URL}{endpoint.pk}/secrets/{endpoint.secrets.get().pk}/")
        assert response.status_code == 409
        assert endpoint.secrets.exists()

    def test_a_secret_of_another_endpoint_is_404(self, manager):
        endpoint, other = make_endpoint("hex_hmac"), make_endpoint("hex_hmac", name="other")
        response = manager.delete(f"{URL}{endpoint.pk}/secrets/{other.secrets.get().pk}/")
        assert response.status_code == 404

    def test_rotation_needs_the_change_permission(self, viewer):
        endpoint = make_endpoint("hex_hmac")
        assert viewer.post(f"{URL}{endpoint.pk}/rotate-secret/", {}, format="json").status_code == 403
        assert endpoint.secrets.count() == 1


class TestUpdateAndDelete:
    def test_update_changes_what_may_change(self, manager):
        endpoint = make_endpoint("hex_hmac")
        response = manager.patch(f"{URL}{endpoint.pk}/", {"name": "Renamed", "is_active": False}, format="json")
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["is_active"]) == ("Renamed", False)

    def test_the_scheme_cannot_change(self, manager):
        endpoint = make_endpoint("hex_hmac")
        response = manager.patch(f"{URL}{endpoint.pk}/", {"scheme": "github"}, format="json")
        assert response.status_code == 400
        assert "scheme" in response.json()

    def test_delete(self, manager):
        endpoint = make_endpoint("hex_hmac")
        assert manager.delete(f"{URL}{endpoint.pk}/").status_code == 204
        assert not WebhookEndpoint.objects.exists()
        assert not WebhookSecret.objects.exists()


class TestPermissions:
    def test_anonymous_is_refused(self):
        assert APIClient().get(URL).status_code in (401, 403)

    def test_viewing_needs_the_view_permission(self):
        client = APIClient()
        client.force_authenticate(UserFactory())
        assert client.get(URL).status_code == 403

    def test_a_viewer_cannot_create_or_delete(self, viewer):
        endpoint = make_endpoint("hex_hmac")
        assert viewer.get(URL).status_code == 200
        assert create(viewer).status_code == 403
        assert viewer.delete(f"{URL}{endpoint.pk}/").status_code == 403


def test_services_refuse_an_unknown_update_field():
    endpoint = make_endpoint("hex_hmac")
    with pytest.raises(endpoints.DomainError):
        endpoints.endpoint_update(endpoint=endpoint, token="mine")
