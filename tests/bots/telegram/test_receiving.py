"""POST /telegram-webhook: what Telegram gets back, and what reaches the inbox."""

import pytest

from bots.telegram.inbox import inbox_get
from integrations.secrets.services import setting_set
from tests.bots.telegram.conftest import fixture_update

pytestmark = pytest.mark.django_db


def waiting() -> int:
    return inbox_get().waiting()


class TestAcceptedUpdate:
    def test_is_answered_200_and_waits_in_the_inbox_with_a_drain_scheduled(self, webhook_secret, post_update):
        response = post_update(fixture_update("message_start"))

        assert response.status_code == 200
        assert response.json() == {"ok": True, "update_id": 861000001, "duplicate": False}
        box = inbox_get()
        assert box.waiting() == 1
        assert box.client.exists(box.drain_flag)

    def test_a_redelivered_update_id_is_answered_200_and_marked_a_duplicate(self, webhook_secret, post_update):
        post_update(fixture_update("message_start"))
        again = post_update(fixture_update("message_start"))

        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        (first, second) = inbox_get().claim(count=10)
        assert (first.duplicate, second.duplicate) == (False, True)

    def test_another_update_id_is_not_a_duplicate(self, webhook_secret, post_update):
        post_update(fixture_update("message_start"))
        other = post_update(fixture_update("message_start", update_id=861000099))

        assert other.json()["duplicate"] is False


class TestSecretToken:
    def test_missing_header_is_401_naming_the_header_and_records_nothing(self, webhook_secret, post_update):
        response = post_update(fixture_update("message_start"), secret=None)

        assert response.status_code == 401
        assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
        assert 'header="X-Telegram-Bot-Api-Secret-Token"' in response["WWW-Authenticate"]
        assert waiting() == 0

    @pytest.mark.parametrize("secret", ["wrong", "Wh-secret_0123456789abcdefABCDEf", " " + "x" * 300])
    def test_wrong_secret_is_403_and_records_nothing(self, webhook_secret, post_update, secret):
        response = post_update(fixture_update("message_start"), secret=secret)

        assert response.status_code == 403
        assert response.json() == {"detail": "The X-Telegram-Bot-Api-Secret-Token header is wrong."}
        assert waiting() == 0

    def test_without_a_configured_secret_every_call_is_refused_503(self, post_update):
        response = post_update(fixture_update("message_start"), secret="anything")

        assert response.status_code == 503
        assert "TELEGRAM_WEBHOOK_SECRET" in response.json()["detail"]
        assert waiting() == 0

    def test_the_secret_is_not_checked_before_the_path(self, webhook_secret, post_update):
        setting_set(key="TELEGRAM_WEBHOOK_PATH", value="p4th-Segment")

        assert post_update(fixture_update("message_start"), secret=None).status_code == 404


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "body, detail",
        [
            (b"{not json", "The body is not valid JSON."),
            (b"\xff\xfe", "The body is not valid JSON."),
            (b"", "The body is not valid JSON."),
            (b"[1, 2]", "An update is a JSON object."),
            (b'"text"', "An update is a JSON object."),
        ],
    )
    def test_a_body_that_is_no_object_is_400(self, webhook_secret, post_update, body, detail):
        response = post_update(body)

        assert response.status_code == 400
        assert response.json() == {"detail": detail}
        assert waiting() == 0

    @pytest.mark.parametrize("update_id", [None, "861000001", -1, True, 2**63, 1.5])
    def test_an_update_id_that_is_no_64_bit_integer_is_400(self, webhook_secret, post_update, update_id):
        body = fixture_update("message_start", update_id=update_id)

        response = post_update(body)

        assert response.status_code == 400
        assert response.json() == {"update_id": ["update_id must be a non-negative 64-bit integer."]}

    def test_a_body_over_the_limit_is_413_unread(self, webhook_secret, post_update, settings):
        settings.BOTS_TELEGRAM_BODY_MAX_BYTES = 100

        response = post_update(fixture_update("message_start"))

        assert response.status_code == 413
        assert waiting() == 0

    def test_an_invalid_content_length_is_400(self, webhook_secret, client):
        response = client.generic(
            "POST", "/telegram-webhook", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
        )

        assert response.status_code == 400

    def test_other_methods_are_405_in_json(self, client):
        response = client.get("/telegram-webhook")

        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json()["detail"] == 'Method "GET" not allowed.'


class TestSecretPathSegment:
    def test_with_a_segment_configured_only_its_path_is_the_webhook(self, webhook_secret, post_update):
        setting_set(key="TELEGRAM_WEBHOOK_PATH", value="p4th-Segment")

        assert post_update(fixture_update("message_start")).status_code == 404
        assert post_update(fixture_update("message_start"), path="/telegram-webhook/wrong").status_code == 404
        assert post_update(fixture_update("message_start"), path="/telegram-webhook/p4th-Segment").status_code == 200

    def test_without_a_segment_configured_a_segment_is_404(self, webhook_secret, post_update):
        response = post_update(fixture_update("message_start"), path="/telegram-webhook/anything")

        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
