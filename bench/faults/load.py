"""A steady load that never retries: each request is sent once, at its time, and its fate written down.

    python bench/faults/load.py register --base-url URL --owner SLUG --secret S --series 1 \
        --count 1000 --rate 40 --out requests.jsonl
    python bench/faults/load.py webhook --base-url URL --path /api/v1/webhooks/<token>/ --secret whsec_... \
        --count 2000 --rate 50 --out requests.jsonl

Request i leaves at start + i / rate (or as soon after as a busy machine lets it) on a
connection of its own, whatever happened to the others (a thread per request in flight, at
most --max-in-flight): a server that stalls does not slow the load down, as real devices and
senders do not wait for each other. Each request is one line of --out, in the order sent:
`{"i", "key", "sent", "done", "status", "error", "body"}` — `key` the MAC or the delivery id,
`status` the HTTP status (null on a socket error, then `error` says which), `body` the first
300 characters of a non-2xx answer. `--mark N --mark-file F` creates F once N requests are
sent: the harness injects its fault on that, not on the clock, so "in the middle" holds even
when the load falls behind its schedule. Stdlib only: the load knows nothing of the hub's code.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

CITIES = ["Berlin", "São Paulo", "Москва", "Lyon", "Osaka", "Nairobi", "Quito", "Oslo"]
TYPES = ["temperature", "humidity", "pressure", "luminosity"]


def registration(args, i: int) -> tuple[str, str, bytes, dict]:
    # Locally administered MACs, one series per experiment: 02:fa:<series>:<i, 3 bytes>.
    mac = f"02:fa:{args.series:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
    body = {
        "mac_address": mac,
        "latitude": round((i % 180) - 89.5, 4),
        "longitude": round((i % 360) - 179.5, 4),
        "city": CITIES[i % len(CITIES)],
        "owner": args.owner,
        "measurement_type": TYPES[i % len(TYPES)],
        "sensor_model": "DHT22",
    }
    headers = {"Content-Type": "application/json", "X-Provisioning-Secret": args.secret}
    return mac, "/api/v1/devices/register/", json.dumps(body).encode(), headers


def webhook(args, i: int) -> tuple[str, str, bytes, dict]:
    """A Standard Webhooks delivery, signed as a sender signs it (standardwebhooks.com), at send time."""
    msg_id = f"msg_{args.run_id}_{i:07d}"
    timestamp = str(int(time.time()))
    body = json.dumps(
        {"type": "order.created", "timestamp": timestamp, "data": {"order_id": i, "amount": 1999 + i % 500}},
        separators=(",", ":"),
    ).encode()
    key = base64.b64decode(args.secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
    return msg_id, args.path, body, headers


def send_once(host: str, port: int, timeout: float, path: str, body: bytes, headers: dict) -> dict:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        answer = response.read()
        result = {"status": response.status, "error": None, "body": None}
        if not 200 <= response.status < 300:
            result["body"] = answer[:300].decode("utf-8", "replace")
        return result
    except (OSError, http.client.HTTPException) as exc:
        kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        return {"status": None, "error": f"{kind}: {exc}"[:200], "body": None}
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["register", "webhook"])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=60.0, help="per request; above gunicorn's own timeout")
    parser.add_argument("--max-in-flight", type=int, default=1000)
    parser.add_argument("--owner")
    parser.add_argument("--secret", required=True, help="provisioning secret, or the endpoint's whsec_ secret")
    parser.add_argument("--series", type=int, default=1)
    parser.add_argument("--path")
    parser.add_argument("--run-id", default="faults")
    parser.add_argument("--mark", type=int, help="once this many requests are sent, create --mark-file")
    parser.add_argument("--mark-file")
    args = parser.parse_args()
    make = registration if args.kind == "register" else webhook
    url = urlsplit(args.base_url)
    results: list[dict | None] = [None] * args.count
    slots = threading.BoundedSemaphore(args.max_in_flight)

    def one(i: int, key: str, path: str, body: bytes, headers: dict) -> None:
        try:
            sent = time.time()
            outcome = send_once(url.hostname, url.port, args.timeout, path, body, headers)
            results[i] = {"i": i, "key": key, "sent": sent, "done": time.time(), **outcome}
        finally:
            slots.release()

    threads = []
    start = time.monotonic()
    print(f"{args.kind}: {args.count} requests at {args.rate:g}/s to {args.base_url}", flush=True)
    for i in range(args.count):
        delay = start + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        slots.acquire()
        thread = threading.Thread(target=one, args=(i, *make(args, i)), daemon=True)
        thread.start()
        threads.append(thread)
        if args.mark == i + 1 and args.mark_file:
            open(args.mark_file, "w").close()  # the harness waits for this to inject its fault
        if (i + 1) % max(1, int(args.rate * 10)) == 0:
            print(f"  {i + 1} sent", flush=True)
    for thread in threads:
        thread.join()
    with open(args.out, "w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    statuses: dict = {}
    for result in results:
        label = str(result["status"]) if result["status"] is not None else "socket error"
        statuses[label] = statuses.get(label, 0) + 1
    elapsed = time.monotonic() - start
    print(f"  done in {elapsed:.1f} s: {statuses}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
