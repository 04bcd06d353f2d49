"""Checks of the Telegram webhook ingestion bench (bench/run_telegram.sh), against the hub's
database and Redis under test (the same environment the server runs with).

    prepare   store a bot token and a webhook secret in the settings store; print the secret
    ingested  every update wrk sent was answered 200 and waits in the inbox, once
    resend    a sample sent again is answered 200 "duplicate" and recorded as such
    handled   with a worker running: every update handled exactly once, the inbox empty

Each check prints one JSON line and exits 1 when it fails.
"""

import argparse
import json
import os
import secrets
import sys
import time

import django

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import httpx  # noqa: E402

from bots.models import ReceivedUpdate  # noqa: E402
from bots.telegram.inbox import inbox_get  # noqa: E402
from integrations.secrets.services import setting_set  # noqa: E402


def report(name: str, ok: bool, **figures) -> None:
    print(json.dumps({"check": name, "ok": ok, **figures}))
    if not ok:
        sys.exit(1)


def prepare(args) -> None:
    secret = secrets.token_urlsafe(32)
    setting_set(key="TELEGRAM_WEBHOOK_SECRET", value=secret)
    setting_set(key="TELEGRAM_BOT_TOKEN", value=args.token)
    print(secret)


def _scenario_ok(path: str) -> int:
    with open(path) as f:
        return int(json.load(f)["statuses"].get("200", 0))


def ingested(args) -> None:
    answered = _scenario_ok(args.scenario)
    box = inbox_get()
    # Read, not claimed: the entries stay new for the worker's drain.
    entries = box.client.xrange(box.stream)
    ids = [json.loads(fields["r"])["update"]["update_id"] for _, fields in entries]
    duplicates = sum(fields.get("dup") == "1" for _, fields in entries)
    expected = set(range(args.first, args.first + args.total))
    report(
        "ingested",
        answered == args.total and set(ids) == expected and len(ids) == args.total and duplicates == 0,
        answered_200=answered,
        in_inbox=len(ids),
        duplicates=duplicates,
    )


def resend(args) -> None:
    sample = range(args.first, args.first + min(args.sample, args.total))
    duplicates = 0
    with httpx.Client(base_url=args.base_url, timeout=10) as client:
        for update_id in sample:
            answer = client.post(
                "/telegram-webhook",
                json={"update_id": update_id, "message": {"message_id": 1, "chat": {"id": -1, "type": "group"}}},
                headers={"X-Telegram-Bot-Api-Secret-Token": args.secret},
            )
            duplicates += answer.status_code == 200 and answer.json().get("duplicate") is True
    report("resend", duplicates == len(sample), resent=len(sample), answered_duplicate=duplicates)


def handled(args) -> None:
    expected = args.total
    deadline = time.monotonic() + args.deadline
    started = time.monotonic()
    while time.monotonic() < deadline:
        count = ReceivedUpdate.objects.filter(update_id__gte=args.first, update_id__lt=args.first + expected).count()
        if count >= expected and inbox_get().waiting() == 0:
            break
        time.sleep(0.5)
    count = ReceivedUpdate.objects.filter(update_id__gte=args.first, update_id__lt=args.first + expected).count()
    errors = ReceivedUpdate.objects.exclude(error="").count()
    report(
        "handled",
        count == expected and ReceivedUpdate.objects.count() == expected and errors == 0,
        handled=count,
        rows=ReceivedUpdate.objects.count(),
        errors=errors,
        inbox_waiting=inbox_get().waiting(),
        seconds=round(time.monotonic() - started, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("--token", required=True)
    for name in ("ingested", "resend", "handled"):
        p = commands.add_parser(name)
        p.add_argument("--total", type=int, required=True)
        p.add_argument("--first", type=int, required=True)
        if name == "ingested":
            p.add_argument("--scenario", required=True)
        if name == "resend":
            p.add_argument("--base-url", required=True)
            p.add_argument("--secret", required=True)
            p.add_argument("--sample", type=int, default=300)
        if name == "handled":
            p.add_argument("--deadline", type=float, default=120)
    args = parser.parse_args()
    {"prepare": prepare, "ingested": ingested, "resend": resend, "handled": handled}[args.command](args)


if __name__ == "__main__":
    main()
