"""POST /api/v1/webhooks/<token>/: what each sender gets back, and what is recorded."""

import hashlib
import hmac
import json
import time

import pytest

from integrations.models import WebhookDelivery
from integrations.webhooks import endpoints, records
from tests.integrations.webhooks import senders
from tests.integrations.webhooks.conftest import SCHEMES, fixture_body, make_endpoint, receive_url

pytestmark = pytest.mark.django_db

Outcome = WebhookDelivery.Outcome
BODY = b'{"event": "user.created", "data": {"user_id": 12345}}'
SIGNATURE_HEADER = {
    "standard_webhooks": "webhook-signature",
    "github": "X-Hub-Signature-256",
    "hex_hmac": "X-Signature",
}
FIXTURE_OF = {
    "standard_webhooks": "standard_webhooks_contact_created.json",
    "github": "github_push.json",
    "hex_hmac": "hex_hmac_user_created.json",
}


@pytest.fixture(params=SCHEMES)
def endpoint(request):
    return make_endpoint(request.param)


def only_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


class TestValidDelivery:
    def test_fixture_payload_signed_like_the_sender_is_accepted_and_recorded(
        self, endpoint, post_webhook, django_capture_on_commit_callbacks
    ):
        body = fixture_body(FIXTURE_OF[endpoint.scheme])
        with django_capture_on_commit_callbacks() as enqueued:
            response = post_webhook(endpoint, body)
        assert response.status_code == 202
        delivery = only_delivery()
        assert response.json() == {"status": "accepted", "delivery_id": delivery.delivery_id}
        assert delivery.outcome == Outcome.ACCEPTED and delivery.is_valid and not delivery.processed
        assert delivery.body.encode() == body
        assert delivery.delivery_id
        assert len(enqueued) == 1

    def test_body_is_verified_as_sent_bytes_not_as_reserialized_json(self, endpoint, post_webhook):
        body = b'{ "b" : 1,\n  "a" : [1.0, 2e3] }'
        assert post_webhook(endpoint, body).status_code == 202

    def test_body_over_the_api_limit_but_under_the_webhook_limit_is_accepted(self, endpoint, post_webhook, settings):
        body = json.dumps({"blob": "x" * (100 * 1024)}).encode()
        assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(body) <= settings.WEBHOOKS_BODY_MAX_BYTES
        assert post_webhook(endpoint, body).status_code == 202

    def test_github_delivery_id_is_recorded(self, post_webhook):
        endpoint = make_endpoint("github")
        post_webhook(endpoint, BODY, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
        assert only_delivery().delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"

    def test_lab_sender_without_delivery_id_is_told_apart_by_body_hash(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        post_webhook(endpoint, BODY, senders.hex_hmac_headers(secret=endpoint.secret, body=BODY))
        assert only_delivery().delivery_id == "sha256:" + hashlib.sha256(BODY).hexdigest()

    def test_signature_headers_are_masked_in_the_record(self, endpoint, post_webhook):
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY)
        headers["Authorization"] = "Bearer very-secret-token"
        post_webhook(endpoint, BODY, headers)
        recorded = only_delivery().headers
        digest = headers[SIGNATURE_HEADER[endpoint.scheme]].removeprefix("v1,").removeprefix("sha256=")
        assert digest not in json.dumps(recorded)
        assert recorded[SIGNATURE_HEADER[endpoint.scheme].title()].endswith(records.MASK)
        assert "very-secret-token" not in json.dumps(recorded)
        assert recorded["Authorization"] == "Bearer " + records.MASK


class TestRejected:
    def test_missing_signature_is_400_and_recorded(self, endpoint, post_webhook):
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY)
        del headers[SIGNATURE_HEADER[endpoint.scheme]]
        response = post_webhook(endpoint, BODY, headers)
        assert response.status_code == 400
        assert "detail" in response.json()
        delivery = only_delivery()
        assert (delivery.outcome, delivery.is_valid, delivery.status_code) == (Outcome.MISSING_SIGNATURE, False, 400)

    def test_wrong_secret_is_401_and_recorded(self, endpoint, post_webhook):
        other = make_endpoint(endpoint.scheme, name="someone else")
        response = post_webhook(endpoint, BODY, secret=other.secret)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid signature."}
        delivery = only_delivery()
        assert (delivery.outcome, delivery.is_valid, delivery.processed) == (Outcome.BAD_SIGNATURE, False, False)
        assert delivery.body.encode() == BODY

    def test_a_401_names_the_signature_header_the_endpoint_accepts(self, endpoint, post_webhook):
        other = make_endpoint(endpoint.scheme, name="someone else")

        response = post_webhook(endpoint, BODY, secret=other.secret)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == (
            f'WebhookSignature realm="Switchboard", header="{SIGNATURE_HEADER[endpoint.scheme]}"'
        )

    def test_tampered_body_is_401(self, endpoint, post_webhook):
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY)
        assert post_webhook(endpoint, BODY.replace(b"12345", b"12346"), headers).status_code == 401

    @pytest.mark.parametrize("offset", [-1, 1], ids=["stale", "future"])
    def test_standard_webhooks_timestamp_outside_tolerance_is_401(self, post_webhook, offset):
        endpoint = make_endpoint("standard_webhooks", tolerance_seconds=300)
        headers = senders.standard_webhooks_headers(
            secret=endpoint.secret, body=BODY, timestamp=int(time.time()) + offset * 3600
        )
        response = post_webhook(endpoint, BODY, headers)
        assert response.status_code == 401
        assert "timestamp" in response.json()["detail"]
        assert only_delivery().outcome == Outcome.STALE_TIMESTAMP

    @pytest.mark.parametrize("scheme", ["github", "hex_hmac"])
    @pytest.mark.parametrize("offset", [-1, 1], ids=["stale", "future"])
    def test_optional_timestamp_header_outside_tolerance_is_401(self, post_webhook, scheme, offset):
        endpoint = make_endpoint(scheme, tolerance_seconds=300)
        headers = senders.sign(scheme, secret=endpoint.secret, body=BODY)
        headers["X-Webhook-Timestamp"] = str(int(time.time()) + offset * 3600)
        assert post_webhook(endpoint, BODY, headers).status_code == 401
        headers["X-Webhook-Timestamp"] = str(int(time.time()))
        assert post_webhook(endpoint, BODY, headers).status_code == 202

    def test_malformed_json_with_a_valid_signature_is_400_after_recording(self, endpoint, post_webhook):
        body = b'{"event": "user.created",'
        response = post_webhook(endpoint, body)
        assert response.status_code == 400
        delivery = only_delivery()
        assert (delivery.outcome, delivery.is_valid, delivery.processed) == (Outcome.MALFORMED_JSON, True, False)
        assert delivery.body.encode() == body

    @pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"x": NaN}', b""])
    def test_other_non_json_bodies_are_400(self, post_webhook, body):
        endpoint = make_endpoint("hex_hmac")
        assert post_webhook(endpoint, body).status_code == 400

    def test_body_over_the_webhook_limit_is_413_and_recorded_without_it(self, endpoint, post_webhook, settings):
        settings.WEBHOOKS_BODY_MAX_BYTES = 1024
        body = json.dumps({"blob": "x" * 2000}).encode()
        response = post_webhook(endpoint, body)
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body exceeds the size limit."}
        delivery = only_delivery()
        assert (delivery.outcome, delivery.body) == (Outcome.TOO_LARGE, "")

    def test_default_webhook_limit_applies(self, post_webhook, settings):
        endpoint = make_endpoint("hex_hmac")
        body = b'"' + b"x" * settings.WEBHOOKS_BODY_MAX_BYTES + b'"'
        assert post_webhook(endpoint, body).status_code == 413

    def test_forged_requests_store_a_capped_body(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        body = json.dumps({"blob": "x" * 20_000}).encode()
        post_webhook(endpoint, body, {"X-Signature": "00" * 32})
        delivery = only_delivery()
        assert len(delivery.body) == records.REJECTED_BODY_STORED_BYTES
        assert delivery.body_truncated

    def test_nul_bytes_in_a_forged_body_are_recorded_not_a_server_error(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        response = post_webhook(endpoint, b"\x00\x00{}", {"X-Signature": "00" * 32})
        assert response.status_code == 401
        assert "\x00" not in only_delivery().body

    def test_overlong_delivery_id_is_400(self, post_webhook):
        endpoint = make_endpoint("hex_hmac")
        assert post_webhook(endpoint, BODY, delivery="x" * 300).status_code == 400
        assert only_delivery().outcome == Outcome.BAD_HEADERS


class TestDuplicates:
    def test_same_delivery_id_again_is_200_and_not_enqueued_again(
        self, endpoint, post_webhook, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as enqueued:
            first = post_webhook(endpoint, BODY, delivery="evt_1")
            again = post_webhook(endpoint, BODY, delivery="evt_1")
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json() == {"status": "duplicate", "delivery_id": "evt_1"}
        assert len(enqueued) == 1
        outcomes = sorted(WebhookDelivery.objects.values_list("outcome", flat=True))
        assert outcomes == [Outcome.ACCEPTED, Outcome.DUPLICATE]

    def test_same_id_on_another_endpoint_is_a_different_delivery(self, endpoint, post_webhook):
        other = make_endpoint(endpoint.scheme, name="other")
        assert post_webhook(endpoint, BODY, delivery="evt_1").status_code == 202
        assert post_webhook(other, BODY, delivery="evt_1").status_code == 202

    def test_a_forged_request_cannot_burn_a_delivery_id(self, endpoint, post_webhook):
        intruder = make_endpoint(endpoint.scheme, name="intruder's")
        assert post_webhook(endpoint, BODY, secret=intruder.secret, delivery="evt_1").status_code == 401
        assert post_webhook(endpoint, BODY, delivery="evt_1").status_code == 202


class TestRotation:
    def test_old_and_new_secrets_both_verify(self, endpoint, post_webhook):
        _, new_secret = endpoints.endpoint_secret_add(endpoint=endpoint)
        assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 202
        assert post_webhook(endpoint, BODY, secret=new_secret).status_code == 202

    def test_expired_secret_no_longer_verifies(self, endpoint, post_webhook):
        _, new_secret = endpoints.endpoint_secret_add(endpoint=endpoint, expire_previous_in=0)
        assert post_webhook(endpoint, BODY, secret=endpoint.secret).status_code == 401
        assert post_webhook(endpoint, BODY, secret=new_secret).status_code == 202

    def test_a_sender_signing_with_both_secrets_is_accepted_once(self, post_webhook):
        endpoint = make_endpoint("standard_webhooks")
        _, new_secret = endpoints.endpoint_secret_add(endpoint=endpoint)
        old = senders.standard_webhooks_headers(secret=endpoint.secret, body=BODY, msg_id="msg_1")
        new = senders.standard_webhooks_headers(
            secret=new_secret, body=BODY, msg_id="msg_1", timestamp=int(old["webhook-timestamp"])
        )
        old["webhook-signature"] += " " + new["webhook-signature"]
        assert post_webhook(endpoint, BODY, old).status_code == 202


class TestEndpointLookup:
    def test_inactive_endpoint_is_404_and_records_nothing(self, endpoint, post_webhook):
        endpoints.endpoint_update(endpoint=endpoint, is_active=False)
        response = post_webhook(endpoint, BODY)
        assert response.status_code == 404
        assert response.json() == {"detail": "Webhook endpoint not found."}
        assert not WebhookDelivery.objects.exists()

    def test_unknown_token_is_404(self, client):
        response = client.post("/api/v1/webhooks/no-such-endpoint/", data=BODY, content_type="application/json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Webhook endpoint not found."}

    def test_get_is_405(self, client, endpoint):
        response = client.get(receive_url(endpoint))
        assert response.status_code == 405
        assert "detail" in response.json()

    def test_no_csrf_token_or_session_needed(self, endpoint, admin_user):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        headers = senders.sign(endpoint.scheme, secret=endpoint.secret, body=BODY)
        response = client.post(receive_url(endpoint), data=BODY, content_type="application/json", headers=headers)
        assert response.status_code == 202


def test_lab_client_script_is_accepted(post_webhook):
    """The original lab's test_webhook.py: json.dumps(payload), hex HMAC in X-Signature."""
    endpoint = make_endpoint("hex_hmac")
    payload_str = json.dumps(
        {
            "event": "user.created",
            "data": {"user_id": 12345, "email": "test@example.com"},
            "timestamp": "2024-05-31T17:08:37",
        }
    )
    signature = hmac.new(endpoint.secret.encode(), payload_str.encode(), hashlib.sha256).hexdigest()
    response = post_webhook(endpoint, payload_str.encode(), {"X-Signature": signature})
    assert response.status_code == 202


def test_invalid_content_length_is_400(client):
    endpoint = make_endpoint("hex_hmac")
    response = client.post(receive_url(endpoint), data=BODY, content_type="application/json", CONTENT_LENGTH="many")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Content-Length header."}


@pytest.mark.parametrize(
    "name, value, recorded",
    [
        ("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", "v1," + records.MASK),
        ("X-Hub-Signature-256", "sha256=" + "ab" * 32, "sha256=" + records.MASK),
        ("X-Signature", "ab" * 32, records.MASK),
        ("Authorization", "Bearer abc=", "Bearer " + records.MASK),
        ("Authorization", "abc=", records.MASK),
        ("Cookie", "sessionid=abc", records.MASK),
        ("User-Agent", "GitHub-Hookshot/1", "GitHub-Hookshot/1"),
    ],
)
def test_recorded_headers_mask_signatures_and_credentials(name, value, recorded):
    assert records.headers_masked({name: value}) == {name: recorded}
