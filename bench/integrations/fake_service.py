"""A local stand-in for an unreliable third-party API, for the outbound benchmark (stdlib only).

    python bench/integrations/fake_service.py --port 8201

Routes (each request is one "hit", logged with its time and answer):

- `GET /svc/<name>?n=<call id>`: per request, with the probabilities set through `/_control`:
  500 `{"error": "boom"}`, 429 with `Retry-After: 0` or `1`, 400, else 200 `{"ok": true, "n": ...}`.
- `GET /data/2.5/weather?q=<city>&appid=<key>`: OpenWeatherMap's answer for the city (always 200;
  401 without appid, in OpenWeatherMap's error shape).
- `POST /_control` `{"route": "/svc/x", "fail": 0.3, "rate_429": 0.1, "rate_400": 0.02}`: the
  failure mix of one route (others keep theirs; default: always 200).
- `GET /_stats`: hits and statuses per route; `GET /_log?route=/svc/x`: every hit of a route as
  `[time, n, status, retry_after]`; `POST /_reset`: forget hits and failure mixes.

Only ever bound to 127.0.0.1. Threads per connection, HTTP/1.1 keep-alive: fast enough that
the client, not the fake, is what the benchmark measures.
"""

import argparse
import json
import random
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_random = random.Random(20261123)
_mixes: dict[str, dict] = {}
_hits: Counter = Counter()
_statuses: dict[str, Counter] = defaultdict(Counter)
_log: dict[str, list] = defaultdict(list)


def _decide(route: str) -> tuple[int, str | None]:
    """The status to answer on `route` and its Retry-After, drawn from the route's mix."""
    mix = _mixes.get(route, {})
    draw = _random.random()
    fail, rate_429, rate_400 = mix.get("fail", 0.0), mix.get("rate_429", 0.0), mix.get("rate_400", 0.0)
    if draw < fail:
        return 500, None
    if draw < fail + rate_429:
        return 429, _random.choice(mix.get("retry_after", ["0", "1"]))
    if draw < fail + rate_429 + rate_400:
        return 400, None
    return 200, None


def _weather(city: str) -> dict:
    return {
        "coord": {"lon": -0.1257, "lat": 51.5085},
        "weather": [{"id": 804, "main": "Clouds", "description": "overcast clouds", "icon": "04d"}],
        "base": "stations",
        "main": {"temp": 11.62, "feels_like": 11.01, "pressure": 1014, "humidity": 85},
        "visibility": 10000,
        "dt": 1700000000,
        "sys": {"country": "GB"},
        "timezone": 0,
        "id": 2643743,
        "name": city,
        "cod": 200,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeService/1"
    # Headers and body leave in two writes: with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms a request on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def _send(self, status: int, payload, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        route = url.path
        if route == "/_stats":
            with _lock:
                payload = {"hits": dict(_hits), "statuses": {r: dict(c) for r, c in _statuses.items()}}
            return self._send(200, payload)
        if route == "/_log":
            with _lock:
                entries = list(_log.get(query.get("route", ""), []))
            return self._send(200, entries)
        if route.startswith("/svc/"):
            with _lock:
                status, retry_after = _decide(route)
                _hits[route] += 1
                _statuses[route][status] += 1
                _log[route].append([time.time(), query.get("n"), status, retry_after])
            if status == 200:
                return self._send(200, {"ok": True, "n": query.get("n")})
            if status == 429:
                return self._send(429, {"error": "slow down"}, {"Retry-After": retry_after})
            if status == 400:
                return self._send(400, {"error": "bad request"})
            return self._send(500, {"error": "boom"})
        if route == "/data/2.5/weather":
            with _lock:
                _hits[route] += 1
                _statuses[route][200 if query.get("appid") else 401] += 1
            if not query.get("appid"):
                return self._send(
                    401,
                    {
                        "cod": 401,
                        "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info.",
                    },
                )
            return self._send(200, _weather(query.get("q", "London")))
        return self._send(404, {"error": "no such route"})

    def do_POST(self):  # noqa: N802
        route = urlsplit(self.path).path
        if route == "/_control":
            mix = self._body()
            with _lock:
                _mixes[mix.pop("route")] = mix
            return self._send(200, {"ok": True})
        if route == "/_reset":
            self._body()
            with _lock:
                _mixes.clear()
                _hits.clear()
                _statuses.clear()
                _log.clear()
            return self._send(200, {"ok": True})
        return self._send(404, {"error": "no such route"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"fake service on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
