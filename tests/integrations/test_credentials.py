import base64
import logging

import httpx
import pytest
from django.db import connection
from werkzeug import Response

from config.errors import DomainError
from integrations.models import Credential
from integrations.secrets import reencryption, services
from integrations.secrets.selectors import CredentialMissing, ResolvedCredential, credential_resolve
from integrations.secrets.services import credential_clear_attention, credential_mark_needs_attention
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db

GLOBAL_KEY = "global-openweathermap-key-0001"
OWNER_KEY = "owner-openweathermap-key-0002"


def api_key_credential(*, owner=None, secret=GLOBAL_KEY, provider="openweathermap", placement="query"):
    return services.credential_create(
        provider=provider,
        owner=owner,
        strategy="api_key",
        api_key_in=placement,
        api_key_name="appid",
        secret=secret,
    )


def raw_secret_column(credential) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM integrations_credential WHERE id = %s", [credential.pk])
        return cursor.fetchone()[0]


# -------------------------------------------------------------------------------- resolver


def test_an_owner_gets_its_own_credential_before_the_global_one():
    owner = OwnerFactory()
    api_key_credential(secret=GLOBAL_KEY)
    mine = api_key_credential(owner=owner, secret=OWNER_KEY)

    resolved = credential_resolve(provider="openweathermap", owner=owner)

    assert (resolved.id, resolved.secret, resolved.is_global) == (mine.pk, OWNER_KEY, False)


def test_an_owner_without_its_own_credential_gets_the_global_one():
    api_key_credential(owner=OwnerFactory(), secret=OWNER_KEY)
    shared = api_key_credential(secret=GLOBAL_KEY)

    resolved = credential_resolve(provider="openweathermap", owner=OwnerFactory())

    assert (resolved.id, resolved.secret, resolved.is_global) == (shared.pk, GLOBAL_KEY, True)


def test_without_an_owner_only_the_global_credential_counts():
    api_key_credential(owner=OwnerFactory(), secret=OWNER_KEY)

    assert credential_resolve(provider="openweathermap") is None
    shared = api_key_credential(secret=GLOBAL_KEY)
    assert credential_resolve(provider="openweathermap", owner=None).id == shared.pk


def test_the_owner_may_be_given_by_its_primary_key():
    owner = OwnerFactory()
    mine = api_key_credential(owner=owner, secret=OWNER_KEY)

    assert credential_resolve(provider="openweathermap", owner=owner.pk).id == mine.pk


def test_no_credential_for_the_provider_is_none_or_a_clear_error_when_required():
    api_key_credential(provider="github", secret=GLOBAL_KEY)

    assert credential_resolve(provider="openweathermap", owner=OwnerFactory()) is None
    with pytest.raises(CredentialMissing) as exc:
        credential_resolve(provider="openweathermap", owner=OwnerFactory(), required=True)
    assert exc.value.status_code == 503
    assert exc.value.detail == (
        "No credential for provider 'openweathermap' (this owner or globally); "
        "add one under Integrations → Credentials."
    )


def test_resolving_costs_one_query(django_assert_num_queries):
    owner = OwnerFactory()
    api_key_credential(secret=GLOBAL_KEY)
    api_key_credential(owner=owner, secret=OWNER_KEY)

    with django_assert_num_queries(1):
        credential_resolve(provider="openweathermap", owner=owner)


def test_a_resolved_credential_never_shows_its_secret_when_printed():
    api_key_credential(secret=GLOBAL_KEY)

    resolved = credential_resolve(provider="openweathermap")

    assert GLOBAL_KEY not in repr(resolved) and GLOBAL_KEY not in str(resolved) and GLOBAL_KEY not in f"{resolved}"
    assert "••••••0001" in repr(resolved)


# ------------------------------------------------------------------- request authentication


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"strategy": "api_key", "api_key_in": "header", "api_key_name": "X-API-Key"},
            {"headers": {"X-API-Key": "s3cret-value"}},
        ),
        (
            {"strategy": "api_key", "api_key_in": "query", "api_key_name": "appid"},
            {"params": {"appid": "s3cret-value"}},
        ),
        ({"strategy": "bearer"}, {"headers": {"Authorization": "Bearer s3cret-value"}}),
        ({"strategy": "basic", "username": "bridge"}, {"auth": ("bridge", "s3cret-value")}),
    ],
)
def test_each_strategy_becomes_the_matching_request_auth(fields, expected):
    services.credential_create(provider="example", secret="s3cret-value", **fields)

    assert credential_resolve(provider="example").request_auth() == expected


def test_apply_keeps_the_callers_headers_and_params():
    api_key_credential(secret=GLOBAL_KEY)
    request = {"params": {"q": "Berlin"}, "headers": {"Accept": "application/json"}, "timeout": 5}

    applied = credential_resolve(provider="openweathermap").apply(request)

    assert applied == {
        "params": {"q": "Berlin", "appid": GLOBAL_KEY},
        "headers": {"Accept": "application/json"},
        "timeout": 5,
    }
    assert request["params"] == {"q": "Berlin"}  # the caller's dict is not modified


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        (
            {"strategy": "api_key", "api_key_in": "header", "api_key_name": "X-API-Key"},
            lambda request: request.headers["X-API-Key"] == "wire-s3cret",
        ),
        (
            {"strategy": "api_key", "api_key_in": "query", "api_key_name": "appid"},
            lambda request: request.args["appid"] == "wire-s3cret" and request.args["q"] == "Berlin",
        ),
        ({"strategy": "bearer"}, lambda request: request.headers["Authorization"] == "Bearer wire-s3cret"),
        (
            {"strategy": "basic", "username": "bridge"},
            lambda request: (
                request.headers["Authorization"] == "Basic " + base64.b64encode(b"bridge:wire-s3cret").decode()
            ),
        ),
    ],
)
def test_an_httpx_request_carries_the_credential_on_the_wire(httpserver, fields, check):
    services.credential_create(provider="example", secret="wire-s3cret", **fields)
    seen = []

    def handler(request):
        seen.append(check(request))
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/data").respond_with_handler(handler)
    credential = credential_resolve(provider="example")

    with httpx.Client() as client:
        client.get(httpserver.url_for("/data"), **credential.apply({"params": {"q": "Berlin"}}))

    assert seen == [True]


# ---------------------------------------------------------------------------- at rest, rules


def test_the_secret_is_stored_encrypted():
    credential = api_key_credential(secret=GLOBAL_KEY)

    stored = raw_secret_column(credential)
    assert stored and GLOBAL_KEY not in stored and "openweathermap-key" not in stored


def test_a_credential_secret_survives_key_rotation():
    from cryptography.fernet import Fernet
    from django.test import override_settings

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[old]):
        credential = api_key_credential(secret=GLOBAL_KEY)
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[new, old]):
        assert credential_resolve(provider="openweathermap").secret == GLOBAL_KEY
        reencryption.secrets_reencrypt()
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[new]):
        assert credential_resolve(provider="openweathermap").secret == GLOBAL_KEY
    assert raw_secret_column(credential) != ""


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"strategy": "api_key", "api_key_in": "", "api_key_name": "appid"},
            "api_key_in",
            "Say where the API key goes: header or query.",
        ),
        (
            {"strategy": "api_key", "api_key_in": "header", "api_key_name": "X API Key"},
            "api_key_name",
            "The API key name must be an HTTP header name (e.g. X-API-Key).",
        ),
        ({"strategy": "basic", "username": ""}, "username", "Basic auth needs a username without ':'."),
        ({"strategy": "oauth"}, "strategy", "Strategy must be one of api_key, bearer, basic."),
    ],
)
def test_a_credential_missing_what_its_strategy_needs_is_refused(fields, field, message):
    with pytest.raises(DomainError) as exc:
        services.credential_create(provider="example", secret="x", **fields)

    assert exc.value.as_payload() == {field: [message]}
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    ("fields", "secret"),
    [
        ({"strategy": "bearer"}, "ünïcode-secret-value"),
        ({"strategy": "bearer"}, " padded-token "),
        ({"strategy": "api_key", "api_key_in": "header", "api_key_name": "X-API-Key"}, "kéy"),
    ],
)
def test_a_secret_that_cannot_travel_in_its_header_is_refused_when_saved(fields, secret):
    with pytest.raises(DomainError) as exc:
        services.credential_create(provider="example", secret=secret, **fields)

    assert exc.value.field == "secret"
    assert "printable ASCII" in exc.value.detail
    assert secret not in exc.value.detail
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"strategy": "api_key", "api_key_in": "query", "api_key_name": "appid"},  # URL-encoded
        {"strategy": "basic", "username": "bot"},  # base64 of UTF-8
    ],
)
def test_a_non_ascii_secret_is_fine_where_it_does_not_travel_in_a_header(fields):
    services.credential_create(provider="example", secret="ünïcode-secret-value", **fields)

    assert credential_resolve(provider="example").secret == "ünïcode-secret-value"


def test_moving_a_stored_secret_into_a_header_checks_it_against_the_header():
    credential = api_key_credential(secret="ünïcode-secret-value", placement="query")

    with pytest.raises(DomainError) as exc:
        services.credential_update(credential=credential, api_key_in="header", api_key_name="X-API-Key")

    assert exc.value.field == "secret"
    credential.refresh_from_db()
    assert credential.api_key_in == "query"


def test_fields_a_strategy_does_not_use_are_not_kept():
    credential = services.credential_create(
        provider="example",
        strategy="bearer",
        secret="tok",
        api_key_in="query",
        api_key_name="appid",
        username="x",
    )

    assert (credential.api_key_in, credential.api_key_name, credential.username) == ("", "", "")


def test_one_credential_per_provider_and_owner_and_one_global_per_provider():
    owner = OwnerFactory(slug="acme")
    api_key_credential(owner=owner)
    api_key_credential()

    with pytest.raises(DomainError, match="A credential for openweathermap already exists for owner acme"):
        api_key_credential(owner=owner)
    with pytest.raises(DomainError, match=r"A credential for openweathermap already exists for everyone \(global\)"):
        api_key_credential()
    assert Credential.objects.count() == 2


# --------------------------------------------------------------------------- needs attention


def test_a_refused_credential_is_flagged_with_reason_and_time():
    credential = api_key_credential()
    resolved = credential_resolve(provider="openweathermap")

    credential_mark_needs_attention(resolved, reason="HTTP 401 from api.openweathermap.org")

    credential.refresh_from_db()
    assert credential.needs_attention
    assert credential.attention_reason == "HTTP 401 from api.openweathermap.org"
    assert credential.attention_at is not None
    assert credential_resolve(provider="openweathermap").needs_attention


def test_the_reason_never_keeps_the_secret_even_when_an_error_quotes_the_url(caplog):
    caplog.set_level(logging.DEBUG)
    credential = api_key_credential(secret=GLOBAL_KEY)
    error = f"Client error '401 Unauthorized' for url 'https://api.openweathermap.org/data?q=x&appid={GLOBAL_KEY}'"

    credential_mark_needs_attention(credential, reason=error)

    credential.refresh_from_db()
    assert GLOBAL_KEY not in credential.attention_reason
    assert "appid=••••••0001" in credential.attention_reason
    assert GLOBAL_KEY not in caplog.text
    assert any(r.getMessage() == "integration credential needs attention" for r in caplog.records)


def test_a_new_secret_clears_the_flag_and_other_changes_do_not():
    credential = api_key_credential()
    credential_mark_needs_attention(credential, reason="HTTP 403")

    services.credential_update(credential=credential, name="main account")
    credential.refresh_from_db()
    assert credential.needs_attention

    services.credential_update(credential=credential, secret="rotated-key-value-0003")
    credential.refresh_from_db()
    assert (credential.needs_attention, credential.attention_reason, credential.attention_at) == (False, "", None)
    assert credential_resolve(provider="openweathermap").secret == "rotated-key-value-0003"


def test_the_flag_can_be_cleared_without_changing_the_secret():
    credential = api_key_credential()
    credential_mark_needs_attention(credential, reason="HTTP 401")

    credential_clear_attention(credential)

    credential.refresh_from_db()
    assert not credential.needs_attention and credential_resolve(provider="openweathermap").secret == GLOBAL_KEY


def test_saving_and_resolving_credentials_never_logs_the_secret(caplog):
    caplog.set_level(logging.DEBUG)
    credential = api_key_credential(secret=GLOBAL_KEY)
    services.credential_update(credential=credential, secret=OWNER_KEY)
    resolved = credential_resolve(provider="openweathermap")
    logging.getLogger("tests").info("resolved %s", resolved)

    assert GLOBAL_KEY not in caplog.text and OWNER_KEY not in caplog.text
    assert isinstance(resolved, ResolvedCredential)
