import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from integrations.secrets import crypto

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()


def test_a_secret_round_trips_and_the_token_does_not_contain_it():
    token = crypto.encrypt("hunter2-but-longer")

    assert "hunter2" not in token
    assert crypto.decrypt(token) == "hunter2-but-longer"


def test_the_same_secret_encrypts_differently_each_time():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_an_old_key_kept_in_the_list_still_decrypts_after_rotation():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_OLD]):
        token = crypto.encrypt("rotate-me")
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW, KEY_OLD]):
        assert crypto.decrypt(token) == "rotate-me"
        rotated = crypto.reencrypt(token)
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW]):
        assert crypto.decrypt(rotated) == "rotate-me"


def test_a_secret_whose_key_was_removed_fails_with_a_clear_error():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_OLD]):
        token = crypto.encrypt("lost")
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW]):
        with pytest.raises(crypto.DecryptionFailed) as exc:
            crypto.decrypt(token, what="Setting GITHUB_TOKEN")

    assert exc.value.status_code == 503
    assert "Setting GITHUB_TOKEN cannot be decrypted" in exc.value.detail
    assert KEY_OLD not in exc.value.detail and KEY_NEW not in exc.value.detail


def test_a_malformed_key_is_refused_without_repeating_it():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW, "not-a-fernet-key"]):
        with pytest.raises(ImproperlyConfigured) as exc:
            crypto.encrypt("x")

    assert "entry #2 is not a valid Fernet key" in str(exc.value)
    assert "not-a-fernet-key" not in str(exc.value)


def test_without_a_key_one_is_derived_from_secret_key_with_a_warning_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="integrations.secrets.crypto")
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[], SECRET_KEY="first-secret-key"):
        token = crypto.encrypt("derived")
        crypto.encrypt("again")
        assert crypto.decrypt(token) == "derived"
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[], SECRET_KEY="another-secret-key"):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(token)

    warnings = [r for r in caplog.records if "INTEGRATIONS_ENCRYPTION_KEYS is not set" in r.getMessage()]
    assert len(warnings) == 2  # once per SECRET_KEY, not once per call
    assert "first-secret-key" not in caplog.text


def test_a_configured_key_is_used_instead_of_the_derived_one():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW]):
        token = crypto.encrypt("configured")

    assert Fernet(KEY_NEW.encode()).decrypt(token.encode()) == b"configured"


@pytest.mark.parametrize(
    ("plaintext", "shown"),
    [
        ("123456:ABCDEFGHIJKLMNOPQRSTUV", "••••••STUV"),
        ("short-pass", "••••••"),
        ("", "••••••"),
        (None, None),
    ],
)
def test_a_secret_is_masked_showing_at_most_the_last_four_characters_of_a_long_one(plaintext, shown):
    assert crypto.mask(plaintext) == shown


def test_the_system_check_warns_in_production_without_a_key_and_rejects_a_bad_key():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[], DEBUG=False):
        assert [m.id for m in crypto.check_encryption_keys()] == ["integrations.W001"]
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[], DEBUG=True):
        assert crypto.check_encryption_keys() == []
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=["bad"], DEBUG=False):
        assert [m.id for m in crypto.check_encryption_keys()] == ["integrations.E001"]
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[KEY_NEW], DEBUG=False):
        assert crypto.check_encryption_keys() == []
