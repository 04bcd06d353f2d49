"""Admin of webhooks: secrets shown once on a rendered page and masked afterwards, recorded
headers masked, deliveries reprocessed with the task's service."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from integrations.webhooks import endpoints, records
from tests.factories import UserFactory
from tests.integrations.webhooks import senders
from tests.integrations.webhooks.conftest import make_endpoint

pytestmark = pytest.mark.django_db

BODY = b'{"event": "user.created", "data": {"user_id": 12345}}'
ENDPOINTS = reverse("admin:integrations_webhookendpoint_changelist")
DELIVERIES = reverse("admin:integrations_webhookdelivery_changelist")


def endpoint_change_url(endpoint) -> str:
    return reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk])


def delivery_change_url(delivery) -> str:
    return reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk])


class TestEndpoints:
    def test_changelist_shows_the_receiving_url(self, admin_client):
        endpoint = make_endpoint("github")
        response = admin_client.get(ENDPOINTS)
        assert response.status_code == 200
        assert f"/api/v1/webhooks/{endpoint.token}/" in response.content.decode()

    def test_adding_an_endpoint_shows_its_secret_once(self, admin_client, post_webhook):
        response = admin_client.post(
            reverse("admin:integrations_webhookendpoint_add"),
            {
                "name": "Shop",
                "scheme": "standard_webhooks",
                "tolerance_seconds": 300,
                "is_active": "on",
            },
        )
        assert response.status_code == 200
        endpoint = WebhookEndpoint.objects.get()
        secret = endpoint.secrets.get()
        page = response.content.decode()
        assert "only time" in page
        raw = next(word for word in page.replace('"', " ").split() if word.startswith("whsec_"))
        assert raw.endswith(secret.hint)
        assert post_webhook(endpoint, BODY, secret=raw).status_code == 202
        # ...and never again.
        change = admin_client.get(endpoint_change_url(endpoint)).content.decode()
        assert raw not in change
        assert "••••••" + secret.hint in change
        assert not list(get_messages(response.wsgi_request))

    def test_adding_with_the_senders_secret_checks_it_against_the_scheme(self, admin_client):
        response = admin_client.post(
            reverse("admin:integrations_webhookendpoint_add"),
            {
                "name": "Shop",
                "scheme": "standard_webhooks",
                "tolerance_seconds": 300,
                "secret": "whsec_short",
            },
        )
        assert response.status_code == 200
        assert "Standard Webhooks secret" in response.content.decode()
        assert not WebhookEndpoint.objects.exists()

    def test_rotate_action_renders_the_new_secrets_once(self, admin_client, post_webhook):
        first, second = make_endpoint("hex_hmac"), make_endpoint("github", name="GitHub")
        response = admin_client.post(
            ENDPOINTS,
            {
                "action": "rotate_secret",
                "_selected_action": [first.pk, second.pk],
            },
        )
        assert response.status_code == 200
        page = response.content.decode()
        for endpoint in (first, second):
            new = endpoint.secrets.order_by("-created_at", "-pk").first()
            assert endpoint.secrets.count() == 2
            raw = next(word for word in page.replace('"', " ").split() if len(word) == 43 and word.endswith(new.hint))
            assert post_webhook(endpoint, BODY, secret=raw).status_code == 202
            assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 202
            assert raw not in admin_client.get(endpoint_change_url(endpoint)).content.decode()
        assert not list(get_messages(response.wsgi_request))

    def test_secrets_never_appear_on_the_change_page(self, admin_client):
        endpoint = make_endpoint("hex_hmac")
        page = admin_client.get(endpoint_change_url(endpoint)).content.decode()
        assert endpoint.secret not in page
        assert WebhookSecret.objects.get().secret_encrypted not in page

    def test_the_last_active_secret_cannot_be_deleted_inline(self, admin_client):
        endpoint = make_endpoint("hex_hmac")
        secret = endpoint.secrets.get()
        response = admin_client.post(
            endpoint_change_url(endpoint),
            {
                "name": endpoint.name,
                "tolerance_seconds": 300,
                "is_active": "on",
                "secrets-TOTAL_FORMS": 1,
                "secrets-INITIAL_FORMS": 1,
                "secrets-MIN_NUM_FORMS": 0,
                "secrets-MAX_NUM_FORMS": 1000,
                "secrets-0-id": secret.pk,
                "secrets-0-endpoint": endpoint.pk,
                "secrets-0-DELETE": "on",
            },
        )
        assert response.status_code == 200
        assert "Keep at least one active secret" in response.content.decode()
        assert endpoint.secrets.exists()

    def test_an_old_secret_is_deleted_inline_after_a_rotation(self, admin_client):
        endpoint = make_endpoint("hex_hmac")
        old = endpoint.secrets.get()
        endpoints.endpoint_secret_add(endpoint=endpoint)
        new = endpoint.secrets.exclude(pk=old.pk).get()
        response = admin_client.post(
            endpoint_change_url(endpoint),
            {
                "name": endpoint.name,
                "tolerance_seconds": 300,
                "is_active": "on",
                "secrets-TOTAL_FORMS": 2,
                "secrets-INITIAL_FORMS": 2,
                "secrets-MIN_NUM_FORMS": 0,
                "secrets-MAX_NUM_FORMS": 1000,
                "secrets-0-id": new.pk,
                "secrets-0-endpoint": endpoint.pk,
                "secrets-1-id": old.pk,
                "secrets-1-endpoint": endpoint.pk,
                "secrets-1-DELETE": "on",
            },
        )
        assert response.status_code == 302
        assert list(endpoint.secrets.all()) == [new]


class TestDeliveries:
    @pytest.fixture
    def deliveries(self, post_webhook):
        endpoint = make_endpoint("github")
        headers = senders.github_headers(secret=endpoint.secret, body=BODY)
        headers["Authorization"] = "Bearer leaked-token"
        post_webhook(endpoint, BODY, headers)
        post_webhook(endpoint, BODY, {"X-Hub-Signature-256": "sha256=" + "ab" * 32})
        return endpoint, headers

    def test_list_shows_valid_and_rejected_deliveries(self, admin_client, deliveries):
        response = admin_client.get(DELIVERIES)
        assert response.status_code == 200
        page = response.content.decode()
        assert deliveries[1]["X-GitHub-Delivery"] in page
        assert "Invalid signature." in page

    @pytest.mark.parametrize("outcome", [WebhookDelivery.Outcome.ACCEPTED, WebhookDelivery.Outcome.BAD_SIGNATURE])
    def test_detail_shows_headers_and_body_with_signatures_masked(self, admin_client, deliveries, outcome):
        delivery = WebhookDelivery.objects.get(outcome=outcome)
        response = admin_client.get(delivery_change_url(delivery))
        assert response.status_code == 200
        page = response.content.decode()
        assert "user.created" in page
        assert "X-Hub-Signature-256" in page and "sha256=" + records.MASK in page
        assert deliveries[1]["X-Hub-Signature-256"].removeprefix("sha256=") not in page
        assert "ab" * 32 not in page
        assert "leaked-token" not in page

    def test_reprocess_action_runs_the_processing_service(self, admin_client, deliveries, received):
        accepted = WebhookDelivery.objects.get(outcome=WebhookDelivery.Outcome.ACCEPTED)
        rejected = WebhookDelivery.objects.get(outcome=WebhookDelivery.Outcome.BAD_SIGNATURE)
        response = admin_client.post(
            DELIVERIES,
            {
                "action": "reprocess",
                "_selected_action": [accepted.pk, rejected.pk],
            },
            follow=True,
        )
        assert response.status_code == 200
        accepted.refresh_from_db()
        assert accepted.processed
        assert [pk for pk, _ in received] == [accepted.pk]
        (message,) = [str(m) for m in get_messages(response.wsgi_request)]
        assert "1 processed" in message and "1 not accepted" in message

    def test_reprocess_needs_the_change_permission(self, client, deliveries):
        viewer = UserFactory(is_staff=True, permissions=["integrations.view_webhookdelivery"])
        client.force_login(viewer)
        page = client.get(DELIVERIES)
        assert page.status_code == 200
        assert 'value="reprocess"' not in page.content.decode()

    def test_deliveries_cannot_be_edited_or_added(self, admin_client, deliveries):
        delivery = WebhookDelivery.objects.first()
        page = admin_client.get(delivery_change_url(delivery)).content.decode()
        assert 'name="_save"' not in page
        assert admin_client.get(reverse("admin:integrations_webhookdelivery_add")).status_code == 403
