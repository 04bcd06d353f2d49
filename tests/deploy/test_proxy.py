"""The shipped proxy in front of gunicorn: deploy/nginx.conf with Debian's nginx, the shipped
config/gunicorn.conf.py with one sync worker (docs/deployment.md).

- Clients that stall mid-request are nginx's problem, never a worker's, and nginx cuts them off.
- nginx's own errors are JSON, its limits trip before gunicorn's, and what gunicorn still refuses
  itself is JSON too; the app's own errors pass through untouched.
- The webhook receiver's URL token reaches no log: nginx's, gunicorn's or Django's.
"""

import json
import re
import socket
import time

import pytest

from integrations.models.webhooks import webhook_token_generate
from integrations.webhooks import endpoints
from tests.deploy.servers import NGINX_CONF, exchange, get, request

MASKED = "/api/v1/webhooks/<masked>/"


def nginx_timeout(directive: str) -> float:
    """A timeout of the shipped configuration, in seconds."""
    found = re.search(rf"^\s*{directive}\s+(\d+)s;", NGINX_CONF.read_text(), re.MULTILINE)
    assert found, f"deploy/nginx.conf sets {directive} in seconds"
    return float(found[1])


def answered_by_nginx(response) -> bool:
    # Every answer of the app carries X-Content-Type-Options (SecurityMiddleware); nginx's own do not.
    return response.headers.get("Server") == "nginx" and "X-Content-Type-Options" not in response.headers


def assert_json_error(response, status: int) -> dict:
    assert response.status == status, response.body
    assert response.content_type == "application/json"
    payload = response.json()
    assert isinstance(payload["detail"], str) and payload["detail"]
    return payload


# ------------------------------------------------------------------------ slow clients


def stall_mid_body(port: int, path: str) -> socket.socket:
    """A client that announces 1,000 bytes of body, sends 16 and then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    sock.sendall(head.encode() + b'{"mac_address": ')
    return sock


def stall_mid_headers(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"POST /api/v1/devices/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    return sock


def wait_for_the_end(sock: socket.socket) -> bytes:
    """What the server sent before it closed or reset the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    return received


def test_clients_that_stall_mid_request_hold_no_worker_and_are_cut_off(hub):
    body_timeout = nginx_timeout("client_body_timeout")
    header_timeout = nginx_timeout("client_header_timeout")
    assert max(body_timeout, header_timeout) <= 15, "keep the shipped client timeouts short"
    mark = hub.gunicorn.access_log.mark()
    port = hub.nginx.port
    token = webhook_token_generate()
    stalled = [stall_mid_body(port, "/api/v1/devices/register/") for _ in range(4)]
    stalled += [stall_mid_body(port, f"/api/v1/webhooks/{token}/"), stall_mid_headers(port)]
    stalled_at = time.monotonic()
    time.sleep(0.5)  # all six are waiting in nginx now

    # gunicorn has a single worker, and it is free: nginx passes a request on only once it is whole.
    started = time.monotonic()
    live = get(port, "/health/live/", timeout=5)
    register = request(port, "POST", "/api/v1/devices/register/", body=b"{}", headers={"Content-Type": "text/plain"})
    answered_in = time.monotonic() - started

    assert live.status == 200 and live.body == b"pong"
    assert_json_error(register, 415)
    assert answered_in < 3

    for sock in stalled:
        last_words = wait_for_the_end(sock)
        waited = time.monotonic() - stalled_at
        # nginx closes (resets: reset_timedout_connection) a connection that timed out, without
        # an answer; should it ever answer, the answer is its JSON 408.
        if last_words:
            assert last_words.startswith(b"HTTP/1.1 408 ")
            assert b"application/json" in last_words
        assert waited <= max(body_timeout, header_timeout) + 3
    assert waited >= min(body_timeout, header_timeout) - 1  # nginx's timer, not something sooner

    seen_by_gunicorn = hub.gunicorn.access_log.since(mark)
    assert seen_by_gunicorn.count("POST /api/v1/devices/register/") == 1  # the whole one only
    assert "/api/v1/webhooks/" not in seen_by_gunicorn


def test_without_the_proxy_one_stalled_client_holds_the_only_worker(hub):
    """What nginx protects against: straight at gunicorn, one such client pins its worker."""
    sock = stall_mid_body(hub.gunicorn.port, "/api/v1/devices/register/")
    try:
        time.sleep(0.3)
        with pytest.raises(TimeoutError):
            get(hub.gunicorn.port, "/health/live/", timeout=2)
    finally:
        sock.close()
    assert get(hub.gunicorn.port, "/health/live/", timeout=10).status == 200  # freed when it hung up


# --------------------------------------------------------------------- nginx's own errors

HOST = b"Host: 127.0.0.1\r\n"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414, id="414-uri-too-long"),
        pytest.param(b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, id="431-one-header"),
        pytest.param(
            b"GET / HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 8000) for i in range(5)) + b"\r\n",
            431,
            id="431-all-headers",
        ),
        pytest.param(
            b"POST /api/v1/devices/register/ HTTP/1.1\r\n" + HOST + b"Content-Length: 65537\r\n\r\n",
            413,
            id="413-api-body",
        ),
        pytest.param(
            b"POST /api/v1/webhooks/abc/ HTTP/1.1\r\n" + HOST + b"Content-Length: 1048577\r\n\r\n",
            413,
            id="413-webhook-body",
        ),
        pytest.param(b"GARBAGE\r\n\r\n", 400, id="400-malformed-request-line"),
        pytest.param(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, id="400-tls-on-plain-http"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", 400, id="400-no-host"),
        pytest.param(b"GET / HTTP/1.1\r\n" + HOST + b"Content-Length: abc\r\n\r\n", 400, id="400-bad-length"),
        pytest.param(b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\n", 501, id="501-coding"),
        pytest.param(b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505, id="505-version"),
        pytest.param(b"TRACE / HTTP/1.1\r\n" + HOST + b"\r\n", 405, id="405-trace"),
        pytest.param(b"GET /_proxy/error/502 HTTP/1.1\r\n" + HOST + b"\r\n", 404, id="404-error-page-itself"),
    ],
)
def test_nginx_answers_its_own_errors_in_json(hub, raw, status):
    mark = hub.gunicorn.access_log.mark()

    response = exchange(hub.nginx.port, raw)

    assert_json_error(response, status)
    assert answered_by_nginx(response)
    assert hub.gunicorn.access_log.since(mark) == ""  # gunicorn never saw it


def request_line(length: int) -> bytes:
    """A GET request line of exactly `length` bytes (its line break not counted)."""
    head, tail = b"GET /", b" HTTP/1.1"
    return head + b"a" * (length - len(head) - len(tail)) + tail


def header_line(length: int) -> bytes:
    return b"X-Big: " + b"a" * (length - len(b"X-Big: "))


def test_the_longest_request_line_nginx_accepts_reaches_the_app_and_one_byte_more_is_nginxs_414(hub):
    longest = exchange(hub.nginx.port, request_line(8190) + b"\r\n" + HOST + b"\r\n")
    too_long = exchange(hub.nginx.port, request_line(8191) + b"\r\n" + HOST + b"\r\n")

    assert longest.status == 404 and longest.json() == {"detail": "Not found."}
    assert not answered_by_nginx(longest)  # Django's 404: gunicorn let it through
    assert_json_error(too_long, 414)
    assert answered_by_nginx(too_long)


def test_the_longest_header_nginx_accepts_reaches_the_app_and_one_byte_more_is_nginxs_431(hub):
    live = b"GET /health/live/ HTTP/1.1\r\n" + HOST

    longest = exchange(hub.nginx.port, live + header_line(8190) + b"\r\n\r\n")
    too_long = exchange(hub.nginx.port, live + header_line(8191) + b"\r\n\r\n")

    assert longest.status == 200 and longest.body == b"pong"
    assert_json_error(too_long, 431)
    assert answered_by_nginx(too_long)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(b"".join(b"X-%d: %s\r\n" % (i, b"a" * 8000) for i in range(4)), id="32-KiB-of-headers"),
        # More than gunicorn's default of 100; Debian's nginx stops at about 1,000.
        pytest.param(b"X-Short: 1\r\n" * 900, id="900-headers"),
    ],
)
def test_as_many_headers_as_nginx_accepts_reach_the_app(hub, headers):
    response = exchange(hub.nginx.port, b"GET /health/live/ HTTP/1.1\r\n" + HOST + headers + b"\r\n")

    assert response.status == 200 and response.body == b"pong"


GUNICORN_400 = {"detail": "Bad request: the request line or a header is not valid HTTP."}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"GET /health/live/\xc3\xa4 HTTP/1.1\r\n" + HOST + b"\r\n", id="raw-utf-8-in-the-url"),
        pytest.param(b"GET /health/live/ HTTP/1.1\r\n" + HOST + b"X-Bad: a\x01b\r\n\r\n", id="control-char-in-header"),
        pytest.param(b"GE /health/live/ HTTP/1.1\r\n" + HOST + b"\r\n", id="two-letter-method"),
    ],
)
@pytest.mark.parametrize("via", ["nginx", "gunicorn"])
def test_what_gunicorn_refuses_itself_is_json_too(hub, raw, via):
    """nginx lets these through; gunicorn refuses them before Django sees them."""
    port = hub.nginx.port if via == "nginx" else hub.gunicorn.port

    response = exchange(port, raw)

    assert response.status == 400
    assert response.content_type == "application/json"
    assert response.json() == GUNICORN_400


def test_gunicorns_limits_answer_in_json_without_the_proxy(hub):
    too_long = exchange(hub.gunicorn.port, request_line(8191) + b"\r\n" + HOST + b"\r\n")

    assert too_long.status == 414
    assert too_long.json() == {"detail": "The URL is too long."}


# ------------------------------------------------------------------- the app's own errors


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("GET", "/api/v1/devices/0123456789abcdef/nothing/", b"", {}, 404),
        ("POST", "/api/v1/devices/register/", b"{}", {"Content-Type": "text/plain"}, 415),
        ("POST", "/api/v1/devices/register/", b"{}", {"Content-Type": "application/json"}, 400),
        ("GET", "/api/v1/devices/", b"", {}, 401),
        ("GET", "/health/live/", b"", {"Host": "evil.example"}, 400),
    ],
)
def test_the_apps_own_errors_pass_through_unchanged(hub, method, path, body, headers, status):
    direct = request(hub.gunicorn.port, method, path, body=body, headers=headers)
    proxied = request(hub.nginx.port, method, path, body=body, headers=headers)

    assert direct.status == status and direct.content_type == "application/json"
    assert direct.json()  # {"detail": ...} or field errors
    assert proxied.status == direct.status
    assert proxied.body == direct.body
    assert proxied.content_type == direct.content_type
    assert proxied.headers.get("WWW-Authenticate") == direct.headers.get("WWW-Authenticate")
    assert not answered_by_nginx(proxied)


# --------------------------------------------------------------- webhook tokens and logs


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.django_db(transaction=True)
def test_no_log_line_shows_a_webhook_token(hub):
    endpoint, _secret = endpoints.endpoint_create(scheme="hex_hmac", name="a sender")
    token = endpoint.token  # a real endpoint: the request gets as far as the signature check
    path = f"/api/v1/webhooks/{token}/"
    logs = {
        "nginx access": hub.nginx.access_log,
        "nginx error": hub.nginx.error_log,
        "gunicorn access": hub.gunicorn.access_log,
        "gunicorn and Django": hub.gunicorn.output,
    }
    marks = {name: log.mark() for name, log in logs.items()}

    unsigned = request(hub.nginx.port, "POST", f"{path}?attempt=1", body=b'{"event": "x"}')
    wrong_method = request(hub.nginx.port, "GET", path)
    post = f"POST {path}".encode()
    too_large = exchange(hub.nginx.port, post + b" HTTP/1.1\r\n" + HOST + b"Content-Length: 2097152\r\n\r\n")
    big_header = exchange(hub.nginx.port, post + b" HTTP/1.1\r\n" + HOST + header_line(9000) + b"\r\n\r\n")
    not_http = exchange(hub.nginx.port, post + b"\xc3\xa4 HTTP/1.1\r\n" + HOST + b"\r\n")

    assert 400 <= unsigned.status < 500 and not answered_by_nginx(unsigned)
    assert wrong_method.status == 405
    assert (too_large.status, big_header.status, not_http.status) == (413, 431, 400)
    # Each log once it has its lines; the rest of each line is still there.
    expected = {
        "nginx access": [
            f'"POST {MASKED}?attempt=1 HTTP/1.1" {unsigned.status} ',
            f'"GET {MASKED} HTTP/1.1" 405 ',
            f'"POST {MASKED} HTTP/1.1" 413 ',
            f'"POST {MASKED} HTTP/1.1" 431 ',
            f'"POST {MASKED}\\xC3\\xA4 HTTP/1.1" 400 ',
        ],
        "nginx error": [],
        "gunicorn access": [f'"POST {MASKED}?attempt=1 HTTP/1.0" {unsigned.status} ', f'"GET {MASKED} HTTP/1.0" 405 '],
        # gunicorn's error log, then Django's JSON lines.
        "gunicorn and Django": [f"Invalid HTTP request line: 'POST {MASKED}", '"status_code": 405'],
    }
    written = {name: log.wait_for(*expected[name], since=marks[name]) for name, log in logs.items()}
    for name, text in written.items():
        assert token not in text, f"the token is in the {name} log"
        for line in expected[name]:
            assert line in text, f"{line!r} is not in the {name} log"
    warnings = [line for line in json_lines(written["gunicorn and Django"]) if line.get("logger") == "django.request"]
    assert {line["status_code"] for line in warnings} == {unsigned.status, 405}
    for line in warnings:
        assert line["message"].endswith(f": {MASKED}")
        assert MASKED in line["request"]


def test_with_gunicorn_stopped_nginx_answers_a_json_502(hub):
    token = webhook_token_generate()
    hub.gunicorn.stop()
    error_mark, access_mark = hub.nginx.error_log.mark(), hub.nginx.access_log.mark()

    live = get(hub.nginx.port, "/health/live/")
    webhook = request(hub.nginx.port, "POST", f"/api/v1/webhooks/{token}/", body=b"{}")

    for response in (live, webhook):
        assert_json_error(response, 502)
        assert answered_by_nginx(response)
    errors = hub.nginx.error_log.since(error_mark)
    assert "connect() failed" in errors and "/health/live/" in errors
    # The webhook location logs only critical errors: nginx's error log cannot mask a request line.
    assert token not in errors and "/api/v1/webhooks/" not in errors
    logged = f'"POST {MASKED} HTTP/1.1" 502 '
    assert logged in hub.nginx.access_log.wait_for(logged, since=access_mark)
