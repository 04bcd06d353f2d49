"""The webhook receiver's URL token is masked in every log line Django's logging writes.

(nginx's and gunicorn's logs, and Django's behind them, are tested through the real servers
in tests/deploy/test_proxy.py.)
"""

import contextlib
import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse
from django.utils.log import configure_logging
from gunicorn.glogging import SafeAtoms

from config.logging import WebhookTokenFilter, mask_webhook_tokens
from integrations.models.webhooks import webhook_token_generate
from integrations.webhooks import endpoints

MASKED = "/api/v1/webhooks/<masked>/"


@pytest.fixture(autouse=True)
def _logging_as_django_configures_it():
    """Logging as Django sets it up at startup: a test that ran a Celery worker earlier in the
    session left Celery's own handlers on the root logger, as a worker process does."""
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.fixture
def token():
    return webhook_token_generate()


def own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers but pytest's own (log capture) and those that print nothing."""
    return [
        handler
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest") and not isinstance(handler, logging.NullHandler)
    ]


def console_handler() -> logging.Handler:
    (handler,) = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    return handler


@contextlib.contextmanager
def console_output(formatter_name: str):
    """What the configured console handler prints, with the formatter of settings.LOGGING named."""
    spec = dict(settings.LOGGING["formatters"][formatter_name])
    formatter = logging.config.DictConfigurator({"version": 1}).configure_formatter(spec)
    handler, output = console_handler(), io.StringIO()
    previous_stream, previous_formatter = handler.setStream(output), handler.formatter
    handler.setFormatter(formatter)
    try:
        yield output
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)


def test_the_receivers_url_is_masked_and_the_rest_kept(token):
    url = reverse("webhook-receive", kwargs={"endpoint_token": token})

    assert mask_webhook_tokens(f"Bad Request: {url}") == f"Bad Request: {MASKED}"
    assert mask_webhook_tokens(f'"POST {url}?a=1 HTTP/1.1" 401') == f'"POST {MASKED}?a=1 HTTP/1.1" 401'
    assert mask_webhook_tokens(f"{url} and /api/v1/webhooks/{token}x") == f"{MASKED} and /api/v1/webhooks/<masked>"
    assert mask_webhook_tokens("GET /api/v1/devices/abc/ 404") == "GET /api/v1/devices/abc/ 404"


@pytest.mark.django_db
@pytest.mark.parametrize("formatter", ["json", "text"])
def test_djangos_warning_for_a_webhook_request_shows_no_token(formatter):
    endpoint, _secret = endpoints.endpoint_create(scheme="hex_hmac", name="a sender")

    with console_output(formatter) as output:
        response = Client().post(f"/api/v1/webhooks/{endpoint.token}/", data=b"{}", content_type="application/json")

    printed = output.getvalue()
    assert response.status_code in (400, 401)
    assert endpoint.token not in printed
    assert f"{response.reason_phrase}: {MASKED}" in printed
    if formatter == "json":
        (line,) = [json.loads(line) for line in printed.splitlines() if '"django.request"' in line]
        assert line["message"] == f"{response.reason_phrase}: {MASKED}"
        assert line["status_code"] == response.status_code
        assert line["request"] == f"<WSGIRequest: POST '{MASKED}'>"


@pytest.mark.parametrize("formatter", ["json", "text"])
def test_runservers_request_lines_show_no_token(token, formatter):
    handler = object.__new__(WSGIRequestHandler)  # what runserver logs each request through
    handler.request = None

    with console_output(formatter) as output:
        handler.log_message('"%s" %s %s', f"POST /api/v1/webhooks/{token}/ HTTP/1.1", "404", "24")

    printed = output.getvalue()
    assert token not in printed
    assert f'"POST {MASKED} HTTP/1.1" 404 24' in printed.replace('\\"', '"')


def handlers_reached(name: str) -> list[logging.Handler]:
    """Every handler a record logged on `name` is printed by (pytest's own aside)."""
    logger, reached = logging.getLogger(name), []
    while logger is not None:
        reached += own_handlers(logger)
        logger = logger.parent if logger.propagate else None
    return reached


@pytest.mark.parametrize(
    "name",
    [
        "django.request",
        "django.server",
        "django.security.csrf",
        "django.db.backends",
        "integrations.webhooks.views",
        "",
    ],
)
def test_every_handler_a_record_reaches_masks_tokens(name):
    reached = handlers_reached(name)

    assert reached
    for handler in reached:
        assert any(isinstance(f, WebhookTokenFilter) for f in handler.filters), handler


def test_djangos_default_handlers_are_gone():
    """Django's defaults put unfiltered handlers on "django" (console, mail_admins) and
    "django.server"; LOGGING replaces them."""
    assert own_handlers(logging.getLogger("django")) == []
    assert own_handlers(logging.getLogger("django.server")) == [console_handler()]


def test_a_mapping_argument_is_masked_in_place_keeping_its_own_lookups(token):
    """gunicorn's access log formats one mapping (its atoms, a dict with defaults) into a line."""
    atoms = SafeAtoms({"r": f"GET /api/v1/webhooks/{token}/ HTTP/1.0", "s": 404})
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(s)s %({x-missing}i)s", (), None)
    record.args = atoms  # as logging does for a single mapping argument

    WebhookTokenFilter().filter(record)

    assert record.args is atoms
    assert record.getMessage() == f"GET {MASKED} HTTP/1.0 404 -"


def test_records_without_a_token_are_left_as_they_are():
    marker = object()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s %s", ("a", 1, marker), None)
    record.request = marker

    assert WebhookTokenFilter().filter(record) is True
    assert record.args == ("a", 1, marker) and record.request is marker
