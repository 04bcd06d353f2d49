"""The signature schemes, against the test vectors their own documentation publishes."""

import base64

import pytest

from integrations.webhooks import signatures
from tests.integrations.webhooks import senders

# Test vector of the Standard Webhooks reference libraries (libraries/python/tests/test_webhooks.py,
# test_sign_function): this secret, id, timestamp and payload sign to this signature.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TIMESTAMP = 1614265330
SW_PAYLOAD = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# GitHub's documented example ("Validating webhook deliveries", testing the webhook payload validation).
GH_SECRET = "It's a Secret to Everybody"
GH_PAYLOAD = b"Hello, World!"
GH_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

STANDARD = signatures.SCHEMES["standard_webhooks"]
GITHUB = signatures.SCHEMES["github"]
HEX = signatures.SCHEMES["hex_hmac"]


def sw_headers(signature=SW_SIGNATURE, timestamp=SW_TIMESTAMP, msg_id=SW_MSG_ID):
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def sw_key(secret=SW_SECRET):
    return STANDARD.key(STANDARD.secret_normalize(secret))


class TestStandardWebhooks:
    def test_the_test_senders_signature_matches_the_spec_vector(self):
        signature = senders.standard_webhooks_signature(
            secret=SW_SECRET, msg_id=SW_MSG_ID, timestamp=SW_TIMESTAMP, body=SW_PAYLOAD
        )
        assert signature == SW_SIGNATURE

    def test_spec_vector_verifies(self):
        STANDARD.verify(headers=sw_headers(), body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP)

    def test_secret_given_without_the_whsec_prefix_is_the_same_key(self):
        assert sw_key(SW_SECRET.removeprefix("whsec_")) == sw_key()

    def test_one_changed_body_byte_is_refused(self):
        with pytest.raises(signatures.InvalidSignature):
            STANDARD.verify(
                headers=sw_headers(), body=b'{"test": 2432232315}', keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP
            )

    def test_the_library_tests_almost_right_signature_is_refused(self):
        with pytest.raises(signatures.InvalidSignature):
            STANDARD.verify(
                headers=sw_headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="),
                body=SW_PAYLOAD,
                keys=[sw_key()],
                tolerance=300,
                now=SW_TIMESTAMP,
            )

    def test_any_of_several_signatures_may_match(self):
        header = " ".join(
            [
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                SW_SIGNATURE,
                "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
            ]
        )
        STANDARD.verify(headers=sw_headers(header), body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP)

    def test_any_of_several_keys_may_match(self):
        other = STANDARD.key(STANDARD.secret_generate())
        STANDARD.verify(headers=sw_headers(), body=SW_PAYLOAD, keys=[other, sw_key()], tolerance=300, now=SW_TIMESTAMP)

    def test_signature_header_without_v1_signature_is_refused(self):
        with pytest.raises(signatures.InvalidSignature):
            STANDARD.verify(
                headers=sw_headers("v1a,abc v1,not-base64!"),
                body=SW_PAYLOAD,
                keys=[sw_key()],
                tolerance=300,
                now=SW_TIMESTAMP,
            )

    @pytest.mark.parametrize("skew", [-301, 301])
    def test_timestamp_outside_tolerance_is_refused(self, skew):
        with pytest.raises(signatures.TimestampOutOfTolerance):
            STANDARD.verify(
                headers=sw_headers(), body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP - skew
            )

    @pytest.mark.parametrize("skew", [-300, 300])
    def test_timestamp_at_the_tolerance_edge_is_accepted(self, skew):
        STANDARD.verify(headers=sw_headers(), body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP - skew)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_header_is_a_missing_signature(self, missing):
        headers = sw_headers()
        del headers[missing]
        with pytest.raises(signatures.MissingSignature):
            STANDARD.verify(headers=headers, body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP)

    def test_non_numeric_timestamp_is_malformed(self):
        with pytest.raises(signatures.MalformedHeaders):
            STANDARD.verify(
                headers=sw_headers(timestamp="hello"), body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP
            )

    def test_headers_are_case_insensitive(self):
        headers = {name.title(): value for name, value in sw_headers().items()}
        STANDARD.verify(headers=headers, body=SW_PAYLOAD, keys=[sw_key()], tolerance=300, now=SW_TIMESTAMP)

    def test_generated_secret_follows_the_spec_format(self):
        secret = STANDARD.secret_generate()
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32

    @pytest.mark.parametrize("secret", ["whsec_not base64", "whsec_" + base64.b64encode(b"x" * 23).decode()])
    def test_unusable_secrets_are_refused(self, secret):
        with pytest.raises(signatures.InvalidSecret):
            STANDARD.secret_normalize(secret)

    def test_secret_without_padding_is_accepted(self):
        padded = "whsec_" + base64.b64encode(b"k" * 25).decode()
        assert padded.endswith("=")
        assert STANDARD.secret_normalize(padded.rstrip("=")) == padded


class TestGitHub:
    def test_documented_example_verifies(self):
        GITHUB.verify(
            headers={"X-Hub-Signature-256": GH_SIGNATURE},
            body=GH_PAYLOAD,
            keys=[GITHUB.key(GH_SECRET)],
            tolerance=300,
            now=0,
        )

    def test_the_test_sender_matches_the_documented_example(self):
        assert senders.github_headers(secret=GH_SECRET, body=GH_PAYLOAD)["X-Hub-Signature-256"] == GH_SIGNATURE

    def test_changed_body_is_refused(self):
        with pytest.raises(signatures.InvalidSignature):
            GITHUB.verify(
                headers={"X-Hub-Signature-256": GH_SIGNATURE},
                body=b"Hello, World?",
                keys=[GITHUB.key(GH_SECRET)],
                tolerance=300,
                now=0,
            )

    def test_sha1_only_header_is_a_missing_signature(self):
        with pytest.raises(signatures.MissingSignature):
            GITHUB.verify(
                headers={"X-Hub-Signature": "sha1=abc"},
                body=GH_PAYLOAD,
                keys=[GITHUB.key(GH_SECRET)],
                tolerance=300,
                now=0,
            )

    @pytest.mark.parametrize("header", ["757107ea", "sha1=757107ea", "sha256=zz", "sha256=é"])
    def test_malformed_signature_is_refused(self, header):
        with pytest.raises(signatures.InvalidSignature):
            GITHUB.verify(
                headers={"X-Hub-Signature-256": header},
                body=GH_PAYLOAD,
                keys=[GITHUB.key(GH_SECRET)],
                tolerance=300,
                now=0,
            )

    def test_delivery_id_is_the_github_delivery_guid(self):
        headers = {"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
        assert GITHUB.delivery_id(headers, b"{}") == "72d3162e-cc78-11e3-81ab-4c9367dc0958"

    def test_optional_timestamp_header_is_checked_when_present(self):
        headers = {"X-Hub-Signature-256": GH_SIGNATURE, "X-Webhook-Timestamp": "1000"}
        with pytest.raises(signatures.TimestampOutOfTolerance):
            GITHUB.verify(headers=headers, body=GH_PAYLOAD, keys=[GITHUB.key(GH_SECRET)], tolerance=300, now=2000)


class TestHexHmac:
    def test_lab_signature_verifies(self):
        headers = senders.hex_hmac_headers(secret=GH_SECRET, body=GH_PAYLOAD)
        assert headers["X-Signature"] == GH_SIGNATURE.removeprefix("sha256=")
        HEX.verify(headers=headers, body=GH_PAYLOAD, keys=[HEX.key(GH_SECRET)], tolerance=300, now=0)

    def test_upper_case_hex_verifies(self):
        headers = {"X-Signature": GH_SIGNATURE.removeprefix("sha256=").upper()}
        HEX.verify(headers=headers, body=GH_PAYLOAD, keys=[HEX.key(GH_SECRET)], tolerance=300, now=0)

    def test_wrong_key_is_refused(self):
        headers = senders.hex_hmac_headers(secret=GH_SECRET, body=GH_PAYLOAD)
        with pytest.raises(signatures.InvalidSignature):
            HEX.verify(
                headers=headers, body=GH_PAYLOAD, keys=[HEX.key("another secret, 16+ chars")], tolerance=300, now=0
            )

    def test_no_keys_refuses_everything(self):
        headers = senders.hex_hmac_headers(secret=GH_SECRET, body=GH_PAYLOAD)
        with pytest.raises(signatures.InvalidSignature):
            HEX.verify(headers=headers, body=GH_PAYLOAD, keys=[], tolerance=300, now=0)

    def test_delivery_id_prefers_the_delivery_header_then_the_request_id_then_a_body_hash(self):
        assert HEX.delivery_id({"X-Delivery-Id": "a", "X-Request-Id": "b"}, b"{}") == "a"
        assert HEX.delivery_id({"X-Request-Id": "b"}, b"{}") == "b"
        assert HEX.delivery_id({}, b"{}") == signatures.body_hash_id(b"{}")
        assert HEX.delivery_id({}, b"{}") != HEX.delivery_id({}, b"[]")

    @pytest.mark.parametrize("secret", ["short", " padded secret value ", "tab\tinside the secret"])
    def test_unusable_secrets_are_refused(self, secret):
        with pytest.raises(signatures.InvalidSecret):
            HEX.secret_normalize(secret)


@pytest.mark.parametrize("delivery_id", ["", "a" * 256, "has space", "nul\x00"])
def test_delivery_ids_must_be_short_visible_ascii(delivery_id):
    with pytest.raises(signatures.MalformedHeaders):
        signatures.delivery_id_check(delivery_id)
