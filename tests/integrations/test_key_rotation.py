"""Rotating INTEGRATIONS_ENCRYPTION_KEYS end to end: add a key, re-encrypt, drop the old key — and
every secret of every kind still works, as a freshly started process finds it."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings

from integrations.models import IntegrationRun
from integrations.runs import services as runs
from integrations.secrets import crypto, reencryption, services, settings_store
from integrations.secrets.selectors import credential_resolve
from integrations.webhooks import endpoints as webhook_endpoints
from integrations.webhooks import selectors as webhook_selectors
from tests.integrations.providers.fakes import (  # noqa: F401  (fixtures)
    TELEGRAM_TOKEN,
    credential_for,
    fake_services,
    fixture,
    outbound_settings,
    waits,
)
from tests.integrations.webhooks.senders import github_headers

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SEND = f"/bot{TELEGRAM_TOKEN}/sendMessage"


def as_a_new_process(keys: list[str]):
    """These keys, and no copy of a secret decrypted before: what a restarted process has."""
    settings_store.store.reset()
    webhook_selectors.receiving_cache_clear()
    return override_settings(INTEGRATIONS_ENCRYPTION_KEYS=keys)


def raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> '' ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def secrets_of_every_kind(fake_services, django_capture_on_commit_callbacks):  # noqa: F811
    """Under the old key only: a secret setting, a credential, a webhook endpoint's signing
    secret, and a queued run (its config, with a message text)."""
    with as_a_new_process([OLD]):
        services.setting_set(key="WEBIM_TOKEN", value="webim-access-token-0001")
        credential_for("telegram")
        endpoint, signing_secret = webhook_endpoints.endpoint_create(name="github", scheme="github")
        with django_capture_on_commit_callbacks(execute=False):
            run = runs.integration_execute(
                integration_id="telegram.send_message", config={"chat_id": 42, "text": "rotated"}
            ).run
    return {"endpoint": endpoint, "signing_secret": signing_secret, "run": run}


def rotate() -> str:
    """Steps 1 and 2: the new key first, then the command."""
    out = io.StringIO()
    with as_a_new_process([NEW, OLD]):
        call_command("secrets_reencrypt", stdout=out)
    return out.getvalue()


def test_after_rotation_every_secret_works_with_the_new_key_alone(secrets_of_every_kind, fake_services):  # noqa: F811
    columns = [
        ("integrations_setting", "value_encrypted"),
        ("integrations_credential", "secret_encrypted"),
        ("integrations_webhooksecret", "secret_encrypted"),
        ("integrations_integrationrun", "config_sealed"),
    ]
    before = {place: raw(*place) for place in columns}

    output = rotate()

    assert "secret settings: 1 re-encrypted" in output
    assert "credentials: 1 re-encrypted" in output
    assert "webhook signing secrets: 1 re-encrypted" in output
    assert "configs of unfinished runs: 1 re-encrypted" in output
    assert "Every encrypted value is under the first key" in output
    for place, values in before.items():
        after = raw(*place)
        assert len(values) == len(after) == 1 and values != after, place

    fake_services.expect_request(SEND, method="POST").respond_with_json(fixture("telegram", "send_message_ok"))
    with as_a_new_process([NEW]):
        # the setting
        assert settings_store.setting_get("WEBIM_TOKEN") == "webim-access-token-0001"
        # the credential, sent to the service with the queued run, whose config is readable too
        assert credential_resolve(provider="telegram").secret == TELEGRAM_TOKEN
        performed = runs.integration_run_perform(run_id=str(secrets_of_every_kind["run"].id))
        assert performed.run.status == "succeeded"
        ((request, _),) = fake_services.log
        assert request.path == SEND and request.form["text"] == "rotated"
        # the webhook signing secret: a sender's signed delivery is accepted
        body = json.dumps({"zen": "Keep it logically awesome."}).encode()
        endpoint = secrets_of_every_kind["endpoint"]
        response = Client().post(
            f"/api/v1/webhooks/{endpoint.token}/",
            body,
            content_type="application/json",
            headers=github_headers(secret=secrets_of_every_kind["signing_secret"], body=body),
        )
        assert response.status_code == 202, response.content


def test_without_re_encrypting_first_dropping_the_old_key_breaks_them(secrets_of_every_kind):
    """What the rotation test guards against: the old key removed too early."""
    with as_a_new_process([NEW]):
        with pytest.raises(CommandError) as error:
            call_command("secrets_reencrypt", "--check", stdout=io.StringIO())
        with pytest.raises(crypto.DecryptionFailed):
            credential_resolve(provider="telegram")

    assert "4 value(s) cannot be read with the first key alone" in str(error.value)


def test_the_check_says_when_the_old_key_is_still_needed_and_when_it_is_not(secrets_of_every_kind):
    with as_a_new_process([NEW, OLD]):
        with pytest.raises(CommandError):
            call_command("secrets_reencrypt", "--check", stdout=io.StringIO())
    rotate()
    with as_a_new_process([NEW]):
        call_command("secrets_reencrypt", "--check", stdout=io.StringIO())


def test_a_value_no_key_can_read_is_named_and_left_as_it_is(secrets_of_every_kind):
    lost = Fernet(Fernet.generate_key()).encrypt(b"from a key nobody has").decode()
    IntegrationRun.objects.filter(pk=secrets_of_every_kind["run"].pk).update(config_sealed=lost)

    with as_a_new_process([NEW, OLD]):
        report = reencryption.secrets_reencrypt()

    assert report.unreadable == [f"configs of unfinished runs #{secrets_of_every_kind['run'].pk}"]
    assert report.counts == {
        "secret settings": 1,
        "credentials": 1,
        "webhook signing secrets": 1,
        "configs of unfinished runs": 0,
    }
    assert IntegrationRun.objects.get(pk=secrets_of_every_kind["run"].pk).config_sealed == lost


def test_every_encrypted_column_of_the_models_is_rotated():
    """A model field added later that holds something encrypted must be in ENCRYPTED_COLUMNS."""
    from django.apps import apps

    rotated = {(model, column) for _, model, column in reencryption.ENCRYPTED_COLUMNS}
    encrypted_looking = {
        (model, field.name)
        for model in apps.get_app_config("integrations").get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith(("_encrypted", "_sealed"))
    }
    assert encrypted_looking == rotated
