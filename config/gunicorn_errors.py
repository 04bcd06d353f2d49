"""gunicorn's own error answers in JSON, like every other error of the hub.

gunicorn answers a request it cannot parse (a malformed request line or header, a non-ASCII
byte in the URL, a request line or header over its limits) itself, before Django sees it, with
an HTML page. Behind nginx most of these are refused by nginx first (deploy/nginx.conf, in
JSON), but some pass nginx and reach gunicorn: a raw UTF-8 byte in the URL, a control character
in a header value, a two-letter method. gunicorn has no setting for the format of these answers;
they all go through one function, `gunicorn.util.write_error(sock, status, reason, message)`,
which `install()` replaces with `write_json_error` in each worker (config/gunicorn.conf.py).
tests/deploy/test_proxy.py pins the behaviour, so that a gunicorn release that writes its errors
some other way fails there rather than in production.
"""

import json

from gunicorn import util

# gunicorn's own message quotes the request line or header it refused, decoded as Latin-1; the
# answer says what kind of thing was wrong and gunicorn's error log keeps the particulars.
_DETAILS = {
    400: "Bad request: the request line or a header is not valid HTTP.",
    403: "Forbidden.",
    414: "The URL is too long.",
    417: "Expectation failed.",
    431: "A request header, or all of them together, are too large.",
    500: "Internal server error.",
    501: "The transfer encoding is not supported.",
}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """What gunicorn.util.write_error writes (status line, Connection: close), with a JSON body."""
    body = json.dumps({"detail": _DETAILS.get(status_int, f"{reason}.")}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_json_error
