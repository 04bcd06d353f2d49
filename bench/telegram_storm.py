"""Benchmark (a) of the Telegram notifications: a registration storm told to 20 chats.

    python bench/telegram_storm.py --fake-url URL --devices 5000 --out RUN_DIR/telegram-storm.json

Run by bench/run_bots.sh with the hub's production settings, a fake Bot API process
(`python -m tests.fakes.telegram_bot_api`, Telegram's limits) and Celery worker processes. This
process plays the web: it registers the devices through the real device service (four threads,
one transaction each, as requests would), and the workers hand the events on and notify 10
private chats and 10 groups subscribed to registrations. It then waits until every delivery is
sent and prints: sendMessage calls, the highest rate per chat and overall (the fake's /_stats),
429s received, events covered per chat (from the Delivery rows: all, each once) and the time
until every chat had been told everything. Exits 1 when a check fails.
"""

import argparse
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Min, Q, Sum  # noqa: E402

from bots.models import BotUser, Delivery, Role, SentMessage, Subscription  # noqa: E402
from devices import services as device_services  # noqa: E402
from devices.models import DeviceEvent, MeasurementType  # noqa: E402
from devices.registration import device_register  # noqa: E402

PRIVATE_CHATS = [1_000_001 + n for n in range(10)]
GROUP_CHATS = [-1_000_000_000_001 - n for n in range(10)]


def _chats_create(owner) -> list[BotUser]:
    chats = []
    for chat_id in PRIVATE_CHATS + GROUP_CHATS:
        chat = BotUser.objects.create(
            chat_id=str(chat_id),
            chat_type=BotUser.ChatType.PRIVATE if chat_id > 0 else BotUser.ChatType.SUPERGROUP,
            owner=owner,
            role=Role.MANAGER,
        )
        Subscription.objects.create(bot_user=chat, event_kind=DeviceEvent.Kind.REGISTERED)
        chats.append(chat)
    return chats


def _register(owner, measurement_type, numbers: range) -> None:
    try:
        for n in numbers:
            device_register(
                mac_address=f"02:7e:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                owner=owner,
                measurement_type=measurement_type,
                city="Berlin",
                latitude=52.52,
                longitude=13.405,
                sensor_model="DHT22",
            )
    finally:
        connection.close()


def _fake_stats(fake_url: str) -> dict:
    with urllib.request.urlopen(f"{fake_url}/_stats", timeout=10) as answer:  # noqa: S310 (a local fake)
        return json.load(answer)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fake-url", required=True)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--deadline", type=float, default=600, help="seconds; bounds a stuck run")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    owner, _ = device_services.owner_create(name="Telegram storm", slug="telegram-storm")
    measurement_type = MeasurementType.objects.get(slug="temperature")
    chats = _chats_create(owner)
    expected = args.devices * len(chats)

    started = time.monotonic()
    per_thread = -(-args.devices // args.threads)
    with ThreadPoolExecutor(args.threads) as pool:
        batches = [range(at, min(at + per_thread, args.devices)) for at in range(0, args.devices, per_thread)]
        list(pool.map(lambda numbers: _register(owner, measurement_type, numbers), batches))
    registered_in = time.monotonic() - started
    print(f"registered {args.devices} devices in {registered_in:.1f} s", flush=True)

    sent = 0
    while time.monotonic() - started < args.deadline:
        sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
        if sent == expected:
            break
        time.sleep(0.5)
    told_in = time.monotonic() - started

    stats = _fake_stats(args.fake_url)
    problems = []
    per_chat = {}
    for chat in chats:
        deliveries = Delivery.objects.filter(bot_user=chat)
        figures = deliveries.aggregate(
            rows=Count("id"),
            events=Count("event", distinct=True),
            unsent=Count("id", filter=~Q(status=Delivery.Status.SENT)),
        )
        messages = SentMessage.objects.filter(bot_user=chat, status=SentMessage.Status.SENT)
        counted = messages.aggregate(events=Sum("event_count"), first=Min("sent_at"), last=Max("sent_at"))
        parts = sum(len(ids) for ids in messages.values_list("message_ids", flat=True))
        received = stats["per_chat"].get(chat.chat_id, stats["per_chat"].get(str(int(chat.chat_id)), 0))
        per_chat[chat.chat_id] = {
            "group": chat.is_group,
            "messages": messages.count(),
            "parts": parts,
            "received_by_fake": received,
            "events_covered": figures["events"],
            "events_counted_in_messages": counted["events"] or 0,
        }
        if figures["rows"] != args.devices or figures["events"] != args.devices or figures["unsent"]:
            problems.append(f"chat {chat.chat_id}: {figures} of {args.devices} events")
        if (counted["events"] or 0) != args.devices:
            problems.append(f"chat {chat.chat_id}: its messages count {counted['events']} events, not {args.devices}")
        if received != parts:
            problems.append(f"chat {chat.chat_id}: the fake received {received} messages, {parts} were sent")
    if stats["rate_limited"] or stats["forced_429"]:
        problems.append(f"{stats['rate_limited']} 429s received")
    if sent != expected:
        problems.append(f"only {sent} of {expected} deliveries sent within {args.deadline:.0f} s")

    last_sent = SentMessage.objects.aggregate(last=Max("sent_at"), first=Min("created_at"))
    report = {
        "devices": args.devices,
        "chats": {"private": len(PRIVATE_CHATS), "groups": len(GROUP_CHATS)},
        "registration_seconds": round(registered_in, 1),
        "seconds_until_every_chat_told_everything": round(told_in, 1),
        "send_message_calls": stats["calls"].get("sendMessage", 0),
        "messages_delivered": stats["messages"],
        "max_rate_per_chat_per_s": stats["max_rate_per_chat_per_s"],
        "max_rate_overall_per_s": stats["max_rate_overall_per_s"],
        "http_429_received": stats["rate_limited"] + stats["forced_429"],
        "deliveries_sent": sent,
        "messages_per_private_chat": sorted(v["messages"] for v in per_chat.values() if not v["group"]),
        "messages_per_group": sorted(v["messages"] for v in per_chat.values() if v["group"]),
        "per_chat": per_chat,
        "first_message_created": last_sent["first"].isoformat() if last_sent["first"] else None,
        "problems": problems,
        "ok": not problems,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for key in (
        "devices",
        "chats",
        "registration_seconds",
        "seconds_until_every_chat_told_everything",
        "send_message_calls",
        "max_rate_per_chat_per_s",
        "max_rate_overall_per_s",
        "http_429_received",
        "deliveries_sent",
        "messages_per_private_chat",
        "messages_per_group",
    ):
        print(f"{key:42} {report[key]}")
    print(f"{'events covered per chat (all, each once)':42} {'yes' if not problems else 'NO'}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
