"""The webhook half of the integrations benchmark: prepare signed requests, then check that no
event was lost or duplicated (bench/integrations/README.md).

    python bench/integrations/webhooks.py prepare --count N --requests FILE --out endpoint.json
    python bench/integrations/webhooks.py ingested --endpoint endpoint.json --requests FILE \
        --scenario scenario.json --check check.json
    python bench/integrations/webhooks.py resend --endpoint endpoint.json --requests FILE \
        --base-url URL --sample 500 --check check.json
    python bench/integrations/webhooks.py processed --endpoint endpoint.json --scenario scenario.json \
        --resent resent-check.json --redeliver 300 --deadline 90 --check check.json

Each check writes `{"name", "ok", "figures", "problems"}` (read by bench/integrations/report.py)
and exits 1 when a problem is found. Run with the hub's environment (DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL, CELERY_TASK_DEFAULT_QUEUE) as bench/run_integrations.sh sets it.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Count, Max, Min  # noqa: E402

from integrations.models.webhooks import WebhookDelivery  # noqa: E402
from integrations.webhooks import endpoints, inbox, selectors  # noqa: E402

Outcome = WebhookDelivery.Outcome
# Counters the bench's worker (worker_app.py) keeps in Redis.
HANDLED_KEY = "benchint:handled"
RESULTS_KEY = "benchint:results"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, decode_responses=True)


def _queue_length() -> int:
    # Kombu's Redis transport keeps a queue's messages in a list named after the queue.
    return _redis().llen(settings.CELERY_TASK_DEFAULT_QUEUE)


def _write_check(path: Path, name: str, figures: dict, problems: list[str]) -> int:
    check = {"name": name, "ok": not problems, "figures": figures, "problems": problems}
    path.write_text(json.dumps(check, indent=2) + "\n")
    print(f"{'ok  ' if not problems else 'FAIL'} {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    for problem in problems:
        print(f"     {problem}")
    return 1 if problems else 0


def _read_requests(path: Path) -> list[tuple[str, str, str, str]]:
    return [tuple(line.split("\t", 3)) for line in path.read_text().splitlines()]


def _sign(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, as a sender does it (docs/webhooks.md), independently of our verifier."""
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def prepare(args) -> int:
    """Create the endpoint (as an admin would) and sign `count` requests, each its own id."""
    endpoint, secret = endpoints.endpoint_create(
        name="bench ingestion", scheme="standard_webhooks", tolerance_seconds=args.tolerance
    )
    key = base64.b64decode(secret.removeprefix("whsec_"))
    run = secrets.token_hex(4)
    timestamp = str(int(time.time()))
    with args.requests.open("w") as out:
        for n in range(args.count):
            msg_id = f"msg_{run}_{n:07d}"
            body = json.dumps(
                {
                    "type": "order.created",
                    "timestamp": timestamp,
                    "data": {"order_id": n, "amount": 1999 + n % 500, "currency": "EUR", "items": n % 7 + 1},
                },
                separators=(",", ":"),
            ).encode()
            out.write(f"{msg_id}\t{timestamp}\t{_sign(key, msg_id, timestamp, body)}\t{body.decode()}\n")
    path = selectors.endpoint_receive_url(endpoint=endpoint)
    args.out.write_text(json.dumps({"endpoint_id": endpoint.pk, "path": path}) + "\n")
    print(f"endpoint {endpoint.pk} ({endpoint.scheme}), {args.count} signed requests in {args.requests}")
    return 0


def _deliveries(endpoint_id: int):
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id)


def _outcomes(endpoint_id: int) -> dict[str, int]:
    rows = _deliveries(endpoint_id).values("outcome").annotate(n=Count("pk"))
    return {row["outcome"]: row["n"] for row in rows}


def _inbox_entries(endpoint_id: int) -> list[tuple[str, bool]]:
    """(delivery id, pushed as a duplicate) of every entry of the endpoint waiting in the inbox."""
    box = inbox.inbox_get()
    entries = []
    for _, fields in box.client.xrange(box.stream):
        record = json.loads(fields["r"])
        if record["endpoint"] == endpoint_id and record["outcome"] == Outcome.ACCEPTED:
            entries.append((record["delivery_id"], fields["dup"] == "1"))
    return entries


def _drain_tasks_queued() -> int:
    # Kombu's Redis transport keeps a queue's messages as JSON in a list named after the queue.
    messages = _redis().lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    return sum(1 for message in messages if "drain_webhook_inbox" in message)


def ingested(args) -> int:
    """After the load, before any worker runs: every 202 is one accepted entry waiting in the
    inbox, no id twice, and a drain is scheduled."""
    endpoint_id = json.loads(args.endpoint.read_text())["endpoint_id"]
    scenario = json.loads(args.scenario.read_text())
    sent_ids = {line[0] for line in _read_requests(args.requests)[: scenario["quota"] or 0]}
    answered_202 = scenario["statuses"].get("202", 0)
    entries = _inbox_entries(endpoint_id)
    accepted_ids = [delivery_id for delivery_id, duplicate in entries if not duplicate]
    drains = _drain_tasks_queued()
    figures = {
        "sent": scenario["sent"],
        "202 answers": answered_202,
        "inbox entries": len(entries),
        "accepted entries": len(accepted_ids),
        "distinct accepted ids": len(set(accepted_ids)),
        "rows already written": _deliveries(endpoint_id).count(),
        "drain tasks queued": drains,
    }
    problems = []
    if scenario["requests"] != scenario["quota"] or scenario["sent"] != scenario["quota"]:
        problems.append(f"{scenario['requests']} answers to {scenario['sent']} requests, quota {scenario['quota']}")
    if scenario["unexpected"]:
        problems.append(
            f"{scenario['unexpected']} answers other than 202 {scenario['statuses']}, "
            f"first: {scenario['first_unexpected']}"
        )
    if len(accepted_ids) != answered_202:
        problems.append(f"lost or extra events: {answered_202} answered 202, {len(accepted_ids)} accepted entries")
    if len(entries) != scenario["requests"]:
        problems.append(f"{len(entries)} entries recorded for {scenario['requests']} requests")
    if len(set(accepted_ids)) != len(accepted_ids):
        problems.append(f"{len(accepted_ids) - len(set(accepted_ids))} delivery ids accepted twice")
    if not set(accepted_ids) <= sent_ids:
        problems.append("accepted delivery ids that the benchmark never sent")
    if drains < 1:
        problems.append("no drain task scheduled for the waiting entries")
    return _write_check(args.check, "webhooks: ingested", figures, problems)


def resend(args) -> int:
    """A sender retrying: the same signed requests again, each twice at once → 200 duplicate,
    nothing new accepted."""
    endpoint = json.loads(args.endpoint.read_text())
    endpoint_id = endpoint["endpoint_id"]
    by_id = {line[0]: line for line in _read_requests(args.requests)}
    before = _inbox_entries(endpoint_id)
    sample = [delivery_id for delivery_id, duplicate in before if not duplicate][: args.sample]
    url = args.base_url.rstrip("/") + endpoint["path"]

    def post(msg_id: str) -> tuple[int, str]:
        _, timestamp, signature, body = by_id[msg_id]
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
        }
        answer = httpx.post(url, content=body.encode(), headers=headers, timeout=30)
        return answer.status_code, answer.json().get("status", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, [msg_id for msg_id in sample for _ in range(2)]))
    duplicates = sum(1 for status, kind in answers if (status, kind) == (200, "duplicate"))
    after = _inbox_entries(endpoint_id)
    accepted_before = sum(1 for _, duplicate in before if not duplicate)
    accepted_after = sum(1 for _, duplicate in after if not duplicate)
    figures = {
        "re-sent": len(answers),
        "200 duplicate": duplicates,
        "other answers": len(answers) - duplicates,
        "accepted entries before/after": f"{accepted_before}/{accepted_after}",
        "duplicate entries recorded": len(after) - len(before),
    }
    problems = []
    if not sample:
        problems.append("no accepted delivery to re-send")
    if duplicates != len(answers):
        others = sorted({answer for answer in answers if answer != (200, "duplicate")})
        problems.append(f"{len(answers) - duplicates} re-sent deliveries not answered 200 duplicate: {others[:5]}")
    if accepted_after != accepted_before:
        problems.append(f"re-sending accepted {accepted_after - accepted_before} deliveries again")
    if len(after) - len(before) != len(answers):
        problems.append(f"{len(after) - len(before)} duplicate entries recorded for {len(answers)} re-sent")
    return _write_check(args.check, "webhooks: re-sent ids", figures, problems)


def _results() -> dict[str, int]:
    return {result: int(n) for result, n in _redis().hgetall(RESULTS_KEY).items()}


def _wait(condition, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def processed(args) -> int:
    """With the worker running: the inbox drained into rows (each entry once), every accepted
    delivery processed once (flag, time, one attempt, one webhook_received handling), then a
    redelivered processing task of processed ones is a no-op."""
    from integrations.webhooks.tasks import process_webhook_deliveries

    endpoint = json.loads(args.endpoint.read_text())
    endpoint_id = endpoint["endpoint_id"]
    scenario = json.loads(args.scenario.read_text())
    expected = scenario["statuses"].get("202", 0)
    resent = json.loads(args.resent.read_text())["figures"]["re-sent"]
    box = inbox.inbox_get()
    accepted = _deliveries(endpoint_id).filter(outcome=Outcome.ACCEPTED)
    started = time.monotonic()
    deadline = started + args.deadline
    written = _wait(lambda: box.waiting() == 0, deadline)
    write_seconds = time.monotonic() - started
    drained = written and _wait(lambda: sum(_results().values()) >= expected and _queue_length() == 0, deadline)
    drain_seconds = time.monotonic() - started

    sample = list(accepted.order_by("?").values_list("pk", flat=True)[: args.redeliver])
    for start in range(0, len(sample), 50):
        # As the broker would redeliver an unacknowledged task.
        process_webhook_deliveries.delay(sample[start : start + 50])
    redelivered = (
        _wait(lambda: sum(_results().values()) >= expected + len(sample) and _queue_length() == 0, deadline)
        if drained
        else False
    )

    results = _results()
    handled = {int(pk): int(n) for pk, n in _redis().hgetall(HANDLED_KEY).items()}
    accepted_ids = list(accepted.values_list("delivery_id", flat=True))
    accepted_pks = set(accepted.values_list("pk", flat=True))
    outcomes = _outcomes(endpoint_id)
    span = accepted.aggregate(first=Min("processed_at"), last=Max("processed_at"))
    busy = (span["last"] - span["first"]).total_seconds() if span["first"] and span["last"] else 0
    stats = {
        "processed": accepted.filter(processed=True, processed_at__isnull=False).count(),
        "attempts != 1": accepted.exclude(attempts=1).count(),
        "with error": accepted.exclude(error="").count(),
    }
    figures = {
        "202 answers": expected,
        "rows by outcome": outcomes,
        "inbox written in s (worker start included)": round(write_seconds, 1),
        "processed": stats["processed"],
        "processed in s (worker start included)": round(drain_seconds, 1),
        "worker rate /s (first to last processed)": round(expected / busy, 1) if busy else None,
        "task results": results,
        "handled once": sum(1 for n in handled.values() if n == 1),
        "handled more than once": sum(1 for n in handled.values() if n > 1),
        "redelivered": len(sample),
    }
    problems = []
    if not written:
        problems.append(f"{box.waiting()} entries still in the inbox after {args.deadline} s")
    elif not drained:
        problems.append(
            f"not all deliveries processed within {args.deadline} s ({sum(results.values())} of {expected})"
        )
    elif not redelivered:
        problems.append("the redelivered tasks did not all run")
    if len(accepted_ids) != expected or len(set(accepted_ids)) != expected:
        problems.append(f"{len(accepted_ids)} accepted rows ({len(set(accepted_ids))} distinct) for {expected} 202s")
    if outcomes.get(Outcome.DUPLICATE, 0) != resent:
        problems.append(f"{outcomes.get(Outcome.DUPLICATE, 0)} duplicate rows for {resent} re-sent requests")
    if stats["processed"] != expected:
        problems.append(f"{expected - stats['processed']} accepted deliveries not processed")
    if stats["attempts != 1"]:
        problems.append(f"{stats['attempts != 1']} deliveries with a processing attempt count other than 1")
    if stats["with error"]:
        problems.append(f"{stats['with error']} deliveries with a processing error")
    if set(handled) != accepted_pks:
        problems.append(
            f"webhook_received handled for {len(set(handled) - accepted_pks)} unknown and missing for "
            f"{len(accepted_pks - set(handled))} accepted deliveries"
        )
    if any(n != 1 for n in handled.values()):
        problems.append(f"{sum(1 for n in handled.values() if n != 1)} deliveries handled more than once")
    if results.get("processed", 0) != expected:
        problems.append(f"{results.get('processed', 0)} processings of a delivery, expected {expected}")
    if results.get("already processed", 0) != len(sample):
        problems.append(f"{results.get('already processed', 0)} redelivered runs were no-ops, expected {len(sample)}")
    return _write_check(args.check, "webhooks: processed once", figures, problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tolerance", type=int, default=900)
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("ingested")
    p.add_argument("--endpoint", type=Path, required=True)
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--scenario", type=Path, required=True)
    p.add_argument("--check", type=Path, required=True)
    p = sub.add_parser("resend")
    p.add_argument("--endpoint", type=Path, required=True)
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--sample", type=int, default=500)
    p.add_argument("--check", type=Path, required=True)
    p = sub.add_parser("processed")
    p.add_argument("--endpoint", type=Path, required=True)
    p.add_argument("--scenario", type=Path, required=True)
    p.add_argument("--resent", type=Path, required=True, help="the resend check's output")
    p.add_argument("--redeliver", type=int, default=300)
    p.add_argument("--deadline", type=float, default=90)
    p.add_argument("--check", type=Path, required=True)
    args = parser.parse_args()
    return {"prepare": prepare, "ingested": ingested, "resend": resend, "processed": processed}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
