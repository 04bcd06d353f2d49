"""Secrets that travel in URLs never reach a log line: the webhook receiver's URL token.

`POST /api/v1/webhooks/<token>/` is authenticated by the token in its path (and the signature),
so the path is a secret wherever it is written down. Django logs paths ("Not Found: /api/v1/
webhooks/<token>/", with the request as an extra attribute) and gunicorn's access log logs the
request line. `WebhookTokenFilter` masks the token in every record that passes it: attached to
every handler in settings.LOGGING, and to gunicorn's loggers by `config.gunicorn_logging`.
nginx masks the same in its access log (deploy/nginx.conf); docs/deployment.md has the whole list.

This module imports neither Django nor gunicorn: gunicorn's master loads it before Django.
"""

import logging
import re
from collections.abc import Mapping, MutableMapping

# The one definition of what is masked. The receiver's path is `api/v1/webhooks/<token>/` in
# config/urls.py (a test checks that the URL it reverses to is masked). The token is anything up
# to the next `/`, `?`, `#`, `&`, quote or whitespace: a malformed one may be a real one mistyped.
WEBHOOK_TOKEN_PATTERN = re.compile(r"(/api/v1/webhooks/)[^/?#&\s'\"]+")
MASK = "<masked>"
# Checked before the regular expression: almost no line contains it, and `in` is cheaper.
_MARKER = "/api/v1/webhooks/"


def mask_webhook_tokens(text: str) -> str:
    """`text` with every webhook URL token replaced by `<masked>`."""
    if _MARKER not in text:
        return text
    return WEBHOOK_TOKEN_PATTERN.sub(rf"\g<1>{MASK}", text)


def _masked(value):
    """A log argument, masked: a string is masked; any other object whose text shows a token
    (Django's `request` extra prints as "<WSGIRequest: GET '/api/v1/webhooks/…/'>") is replaced
    by its masked text, which is what a formatter would print; anything else is kept as it is."""
    if isinstance(value, str):
        return mask_webhook_tokens(value)
    if value is None or isinstance(value, int | float | bool | bytes):
        return value
    text = str(value)
    return mask_webhook_tokens(text) if _MARKER in text else value


# LogRecord's own attributes; everything else on a record came from `extra` and is printed by
# the JSON formatter (python-json-logger prints every extra attribute).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class WebhookTokenFilter(logging.Filter):
    """Masks webhook URL tokens in a record's message, its arguments and its extra attributes.

    It changes the record in place (a filter on a handler sees the record every other handler
    sees too), so it must run before any handler formats it: settings.LOGGING attaches it to every
    handler. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_webhook_tokens(record.msg)
        elif _MARKER in str(record.msg):
            record.msg = mask_webhook_tokens(str(record.msg))
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_masked(arg) for arg in args)
        elif isinstance(args, Mapping):
            # One mapping argument ("%(name)s" formats, gunicorn's access log): masked in place,
            # so that a dict subclass keeps its own lookups (gunicorn's case-insensitive atoms).
            if not isinstance(args, MutableMapping):
                args = record.args = dict(args)
            for key, value in list(args.items()):
                masked = _masked(value)
                if masked is not value:
                    args[key] = masked
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES:
                masked = _masked(value)
                if masked is not value:
                    setattr(record, name, masked)
        return True
