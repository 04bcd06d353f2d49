"""CPU cost of one request to each device endpoint and to the webhook receiving URL,
in-process: the WSGI application is called directly (as gunicorn calls it), against the real
PostgreSQL and Redis.

    ./bench/run.sh cost                    (sets up the database and environment, then runs this)
    python bench/cost.py [--requests N] [--cprofile config|webhook]

`webhook` is a signed Standard Webhooks POST, each with its own id (202): the request as
senders make it, up to its record in the inbox (the drain's writing is the worker's cost).

On a busy machine requests per second under wrk swing widely; the best of several interleaved
rounds of CPU time per request moves much less, and the Python function calls per request not
at all: use these to compare changes to the hot path.
"""

import argparse
import base64
import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from devices import boot_cache, services  # noqa: E402
from devices.models import MeasurementType  # noqa: E402
from devices.registration import device_register  # noqa: E402
from integrations.webhooks import endpoints as webhook_endpoints  # noqa: E402
from integrations.webhooks import selectors as webhook_selectors  # noqa: E402

FLEET = 200


def _environ(path: str, headers: dict[str, str], *, body: bytes = b"") -> dict:
    environ = {
        "REQUEST_METHOD": "POST" if body else "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8100",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8100",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        environ.update({"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))})
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def _webhook_requests(count: int) -> list[tuple[dict, int]]:
    """`count` signed deliveries to a new endpoint, each with its own id, signed as a sender does."""
    endpoint, secret = webhook_endpoints.endpoint_create(name=f"Profile {time.time_ns()}", scheme="standard_webhooks")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    path = webhook_selectors.endpoint_receive_url(endpoint=endpoint)
    out = []
    for n in range(count):
        msg_id, timestamp = f"msg_{endpoint.pk}_{n}", str(int(time.time()))
        body = json.dumps({"type": "order.created", "data": {"order_id": n, "amount": 1999}}).encode()
        signature = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(signature).decode(),
        }
        out.append((_environ(path, headers, body=body), 202))
    return out


def _fleet() -> list[tuple[str, str, str]]:
    owner, _ = services.owner_create(name=f"Profile {time.time_ns()}")
    mtype = MeasurementType.objects.get(slug="temperature")
    fleet = []
    base = time.time_ns() % 2**24
    for n in range(FLEET):
        value = base * 256 + n
        mac = ":".join(f"{value >> shift & 0xFF:02x}" for shift in (32, 24, 16, 8, 0))
        registration = device_register(
            mac_address=f"06:{mac}", owner=owner, measurement_type=mtype, city="Lyon", latitude=45.7, longitude=4.8
        )
        device = registration.device
        fleet.append((device.device_id, registration.device_key, boot_cache.config_etag(device.device_id, 1)))
    return fleet


def _requests(kind: str, fleet) -> list[tuple[dict, int]]:
    if kind == "ping":
        return [(_environ("/health/live/", {}), 200)]
    out = []
    for device_id, key, etag in fleet:
        headers = {"Authorization": f"Device {key}"}
        path = f"/api/v1/devices/{device_id}/{'topics' if kind == 'topics' else 'config'}/"
        if kind == "config-304":
            headers["If-None-Match"] = etag
        out.append((_environ(path, headers), 304 if kind == "config-304" else 200))
    return out


def _run(requests, count: int) -> None:
    """`count` requests, cycling over `requests` (a webhook list is long enough never to cycle:
    a delivery sent again would be a 200 duplicate)."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(int(status[:3]))

    for i in range(count):
        environ, expected = requests[i % len(requests)]
        environ["wsgi.input"].seek(0)
        response = application(environ, start_response)
        b"".join(response)
        response.close()
        if statuses[-1] != expected:
            raise SystemExit(f"{environ['PATH_INFO']}: status {statuses[-1]}, expected {expected}")


def _calls(requests) -> float:
    """Python function calls per request: a deterministic measure of the work, whatever the load."""
    profiler = cProfile.Profile()
    profiler.runcall(_run, requests, 100)
    return pstats.Stats(profiler).total_calls / 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the best one counts")
    parser.add_argument("--cprofile", help="profile this endpoint and print the top functions")
    parser.add_argument("--sort", default="tottime", help="order of the profile: tottime, cumulative, ...")
    args = parser.parse_args()
    fleet = _fleet()
    kinds = ("ping", "topics", "config", "config-304", "webhook")
    requests = {kind: _requests(kind, fleet) for kind in kinds[:-1]}
    for kind in kinds[:-1]:
        _run(requests[kind], len(requests[kind]) * 2)  # warm: every boot record cached, every device seen
    # Warm-up, each round, the call count and the profile each take fresh deliveries.
    webhooks = iter(_webhook_requests(args.requests * (args.rounds + 2) + 200))
    _run([next(webhooks) for _ in range(200)], 200)  # warm: endpoint and decrypted key cached
    cpu = {kind: [] for kind in kinds}
    wall = {kind: [] for kind in kinds}
    # Rounds interleave the endpoints, so a burst of load from elsewhere hits them all alike; the
    # best round of each is the least disturbed one.
    for _ in range(args.rounds):
        requests["webhook"] = [next(webhooks) for _ in range(args.requests)]
        for kind in kinds:
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            _run(requests[kind], args.requests)
            cpu[kind].append((time.process_time() - started_cpu) / args.requests * 1e6)
            wall[kind].append((time.perf_counter() - started_wall) / args.requests * 1e6)
    print(f"{'endpoint':<12}{'CPU µs/req':>12}{'wall µs/req':>13}{'calls/req':>11}   (best of {args.rounds} rounds)")
    for kind in kinds:
        if kind == "webhook":
            requests["webhook"] = [next(webhooks) for _ in range(args.requests)]
        print(f"{kind:<12}{min(cpu[kind]):>12.0f}{min(wall[kind]):>13.0f}{_calls(requests[kind]):>11.0f}")
    if args.cprofile:
        if args.cprofile == "webhook":
            requests["webhook"] = [next(webhooks) for _ in range(args.requests)]
        profiler = cProfile.Profile()
        profiler.runcall(_run, requests[args.cprofile], args.requests)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)


if __name__ == "__main__":
    main()
