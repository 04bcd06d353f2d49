"""Hostile input against every API and device path, generated from the URL configuration.

Each route (the admin aside) is called with every method it serves, with every input of the
table below, as a superuser (so bodies get past authentication and are parsed) and without
credentials. Whatever arrives, the hub answers 4xx/2xx — never a 5xx — and, when it refuses,
with JSON (pages for people, such as the landing page, with their HTML). A route added later is
covered without editing this file; a route with a URL parameter this file has no real value for
fails until one is added below.
"""

import json
import time
import urllib.parse

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bots import invitations
from bots.models import BotUser, Invitation, Role
from config import errors
from config.models import ApiToken
from config.tokens import api_token_issue
from devices.models import Device
from integrations.models import Credential, IntegrationRun, Setting, WebhookEndpoint
from integrations.secrets import services as integration_services
from integrations.webhooks import endpoints as webhook_endpoints
from tests.factories import OwnerFactory, UserFactory, register_device

pytestmark = pytest.mark.django_db

BODY_METHODS = ("post", "put", "patch")
SLOW_SECONDS = 3.0
LONG = "x" * 10_000
TELEGRAM_SECRET = "hostile-webhook-secret"


def _routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and not (prefix + str(pattern.pattern)).startswith("admin/"):
            yield prefix + str(pattern.pattern), pattern


def _methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return sorted(actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:  # a plain function view: it must cope with any method
        return ["get", "post", "put", "patch", "delete"]
    return sorted(m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m))


def _model_of(pattern: URLPattern):
    """The model a viewset's `pk` names: from its queryset, its serializer, or its get_queryset()."""
    view_class = getattr(pattern.callback, "cls", None)
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model
    meta = getattr(view_class.serializer_class, "Meta", None)
    return meta.model if meta is not None else view_class().get_queryset().model


ROUTES = [(route, pattern, method) for route, pattern in _routes() for method in _methods(pattern)]


@pytest.fixture
def world(services_that_answer):
    """One real object of every kind a URL can name."""
    owner = OwnerFactory(slug="acme")
    device = register_device(owner=owner)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    api_token_issue(user=superuser, name="spare")  # one the DELETE requests may revoke
    credential = Credential.objects.get(provider="github")  # stored by services_that_answer
    endpoint, _ = webhook_endpoints.endpoint_create(name="sender", scheme="github")
    integration_services.settings_sync_known()
    run = IntegrationRun.objects.create(integration_id="github.repository", integration_version="1.0.0", trigger="api")
    bot_user = BotUser.objects.create(chat_id="100001", role=Role.MANAGER, owner=owner)
    invitation, _ = invitations.invitation_create(owner=owner, role=Role.MANAGER)
    # Telegram's webhook is configured, at a secret path: the "superuser" caller sends its secret.
    integration_services.setting_set(key="TELEGRAM_WEBHOOK_SECRET", value=TELEGRAM_SECRET)
    integration_services.setting_set(key="TELEGRAM_WEBHOOK_PATH", value="hostile-segment")
    return {
        "device": device,
        "token": api_token_issue(user=superuser, name="hostile"),
        "values": {
            "device_id": device.device_id,
            "slug": owner.slug,
            "key": Setting.objects.order_by("key").first().key,
            "integration_id": "github.repository",
            "run_id": str(run.id),
            "city": "London",
            "endpoint_token": endpoint.token,
            "secret_id": str(endpoint.secrets.first().pk),
            "segment": "hostile-segment",
        },
        "pk": {
            WebhookEndpoint: str(endpoint.pk),
            Credential: str(credential.pk),
            Device: device.device_id,
            ApiToken: str(ApiToken.objects.get(user=superuser, name="spare").pk),
            BotUser: str(bot_user.pk),
            Invitation: str(invitation.pk),
        },
        "owner": owner,
    }


def _path(route: str, pattern: URLPattern, world: dict) -> tuple[str, list[str]]:
    """The route with real values, and the values as they appear in it (to swap for hostile ones)."""
    names = list(pattern.pattern.regex.groupindex)
    kwargs = {}
    for name in names:
        if name == "pk":
            kwargs[name] = world["pk"][_model_of(pattern)]
        elif name in world["values"]:
            kwargs[name] = world["values"][name]
        else:
            pytest.fail(f"{route}: add a real value for the URL parameter '{name}' to the world fixture")
    return reverse(pattern.name, kwargs=kwargs), [urllib.parse.quote(str(v), safe="") for v in kwargs.values()]


# (what, Content-Type, raw body)
BODIES = [
    ("array nested 10,000 deep", "application/json", "[" * 10_000 + "]" * 10_000),
    ("object nested 10,000 deep", "application/json", '{"a":' * 10_000 + "1" + "}" * 10_000),
    ("NUL in a string", "application/json", json.dumps({"name": "a\u0000b", "owner": "acme\u0000"})),
    ("NUL in a key", "application/json", json.dumps({"na\u0000me": "x"})),
    ("unpaired surrogate", "application/json", '{"name": "\\ud800", "config": {"text": "\\udfff"}}'),
    ("invalid UTF-8", "application/json", b'{"name": "\xff\xfe"}'),
    ("not JSON", "application/json", "{'name': 'x',}"),
    ("empty body", "application/json", ""),
    ("a JSON array", "application/json", "[]"),
    ("a JSON string", "application/json", '"x"'),
    ("a JSON number", "application/json", "1"),
    ("JSON null", "application/json", "null"),
    ("NaN", "application/json", '{"latitude": NaN, "version": NaN}'),
    ("Infinity", "application/json", '{"latitude": Infinity, "send_interval": -Infinity}'),
    ("1e400", "application/json", '{"latitude": 1e400, "expire_previous_in_seconds": 1e400}'),
    (
        "huge integers",
        "application/json",
        '{"version": 99999999999999999999, "send_interval": 9999999999999, "expire_previous_in_seconds": 999999999999,'
        ' "tolerance_seconds": 99999999999999999999, "qos": 99999999999999999999}',
    ),
    ("a 5,000-digit integer", "application/json", '{"version": ' + "9" * 5000 + "}"),
    ("wrong types", "application/json", json.dumps({k: [{}] for k in ("name", "owner", "mac_address", "config")})),
    ("10,000-character strings", "application/json", json.dumps({k: LONG for k in ("name", "owner", "city", "text")})),
    ("plain text", "text/plain", "hello"),
    ("form-encoded", "application/x-www-form-urlencoded", "name=x&owner=acme"),
    ("multipart", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"),
    ("no Content-Type", "", '{"name": "x"}'),
    ("a charset no codec knows", "application/json; charset=nope", '{"name": "x"}'),
    ("over the size limit", "application/json", json.dumps({"name": "x" * 70_000})),
]
QUERIES = ["?status=%00&integration=%00&owner=%00", f"?search={LONG}&q={LONG}", "?limit=-1&offset=99999999999999999999"]
SEGMENTS = ["%00", LONG, "%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0", "%F0%9F%92%A5", "..", "%ff"]
AUTHORIZATIONS = ["Token", "Token a b c", "Token \u0000", "Device", f"Device {LONG}", "Basic !!!", "Bearer", "\u00ff"]


def _hostile_requests(path: str, segments: list[str], method: str):
    """(what, path, headers, Content-Type, body) of every hostile request for one route and method."""
    if method in BODY_METHODS:
        for what, content_type, body in BODIES:
            yield f"body: {what}", path, {}, content_type, body
    for query in QUERIES:
        yield f"query {query[:40]}", path + query, {}, None, None
    for real in segments:
        for segment in SEGMENTS:
            yield f"path segment {segment[:12]}", path.replace(f"/{real}", f"/{segment}", 1), {}, None, None
    for authorization in AUTHORIZATIONS:
        yield f"Authorization {authorization[:12]!r}", path, {"HTTP_AUTHORIZATION": authorization}, None, None


def _problem(response, elapsed: float) -> str | None:
    if response.status_code >= 500:
        return f"answered {response.status_code}: {response.content[:300]!r}"
    if elapsed > SLOW_SECONDS:
        return f"took {elapsed:.1f} s"
    if response.status_code >= 400 and not errors.is_page_for_people(response.wsgi_request):
        if not response.get("Content-Type", "").startswith("application/json"):
            return f"answered {response.status_code} as {response.get('Content-Type')}, not JSON"
        try:
            json.loads(response.content)
        except ValueError:
            return f"answered {response.status_code} with a body that is not JSON"
    return None


@pytest.mark.parametrize(("route", "pattern", "method"), ROUTES, ids=[f"{m.upper()} /{r}" for r, _, m in ROUTES])
@pytest.mark.parametrize("caller", ["superuser", "anonymous"])
def test_hostile_input_never_gets_a_server_error_or_a_non_json_refusal(route, pattern, method, caller, world):
    path, segments = _path(route, pattern, world)
    auth = (
        {"HTTP_AUTHORIZATION": f"Token {world['token']}", "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET}
        if caller == "superuser"
        else {}
    )
    problems = []
    for what, target, headers, content_type, body in _hostile_requests(path, segments, method):
        data = body.encode() if isinstance(body, str) else (body or b"")
        started = time.perf_counter()
        # `generic` sends the bytes as they are, whatever charset the Content-Type claims.
        response = Client(enforce_csrf_checks=True, raise_request_exception=False).generic(
            method.upper(), target, data, content_type=content_type or "", **{**auth, **headers}
        )
        problem = _problem(response, time.perf_counter() - started)
        if problem:
            problems.append(f"{what}: {problem}")
    assert not problems, f"{method.upper()} {path}:\n" + "\n".join(problems)
