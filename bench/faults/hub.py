"""The database side of the fault experiments (bench/faults.sh), run with the hub's environment.

    python bench/faults/hub.py setup --out setup.json
    python bench/faults/hub.py measure --kind devices|webhooks --name NAME --dir EXPERIMENT_DIR \
        --deadline 300 --settle 15
    python bench/faults/hub.py summary RUN_DIR

`setup` creates, as an admin would, the owner the devices register under, a webhook endpoint,
and the two connections whose messages the fake Telegram records; each message's text names its
event, so a message received twice is a duplicate and an event without one is lost.

`measure` waits until every event the hub owes a message for has one (then `--settle` seconds
more, for late duplicates) or until `--deadline` seconds after the fault ended — longer while
messages still arrive (a backlog draining: until none came for `--quiet` seconds, at most
`--max-wait` seconds after the fault) — and writes the
experiment's figures (`figures.json`, the arithmetic in `figures.py`). It reads only what is
visible from outside: the load's record of each request, the rows that say a device or a
delivery was stored, the fake's log. The counts of the hub's own bookkeeping (outbox, runs) that
it adds for a lost event are a diagnosis, best effort, and never change a figure.

`summary` prints one line per experiment and exits 1 when anything was lost, duplicated, or
answered an error although it was committed.
"""

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import figures  # noqa: E402
from django.db import OperationalError, connection  # noqa: E402

from devices import services as device_services  # noqa: E402
from devices.models import Device  # noqa: E402
from integrations.connections import services as connections  # noqa: E402
from integrations.models import Connection, WebhookDelivery  # noqa: E402
from integrations.webhooks import endpoints as webhook_endpoints  # noqa: E402
from integrations.webhooks import selectors as webhook_selectors  # noqa: E402

OWNER_SLUG = "faults"
CHAT_ID = -1001234567890
# The texts the connections render; the patterns read the event back out of a message.
DEVICE_TEXT = "fault-bench {{ event }} {{ device_id }} at {{ at }}"
WEBHOOK_TEXT = "fault-bench webhook {{ delivery_id }}"
DEVICE_MESSAGE = re.compile(r"^fault-bench device\.registered (?P<event>[0-9a-f]+) at \S+$")
WEBHOOK_MESSAGE = re.compile(r"^fault-bench webhook (?P<event>\S+)$")


def _connection_create(**fields) -> Connection:
    connections.connection_config_check(
        event=fields["event"], integration_id=fields["integration_id"], config_template=fields["config_template"]
    )
    return Connection.objects.create(**fields)


def setup(args) -> int:
    _, owner_secret = device_services.owner_create(name="Fault experiments", slug=OWNER_SLUG)
    endpoint, endpoint_secret = webhook_endpoints.endpoint_create(name="fault experiments", scheme="standard_webhooks")
    _connection_create(
        name="new devices to the ops chat",
        event=Connection.Event.DEVICE_REGISTERED,
        integration_id="telegram.send_message",
        config_template={"chat_id": CHAT_ID, "text": DEVICE_TEXT},
    )
    _connection_create(
        name="webhooks to the ops chat",
        event=Connection.Event.WEBHOOK_RECEIVED,
        webhook_endpoint=endpoint,
        integration_id="telegram.send_message",
        config_template={"chat_id": CHAT_ID, "text": WEBHOOK_TEXT},
    )
    setup = {
        "owner": OWNER_SLUG,
        "owner_secret": owner_secret,
        "endpoint_id": endpoint.pk,
        "endpoint_path": webhook_selectors.endpoint_receive_url(endpoint=endpoint),
        "endpoint_secret": endpoint_secret,
    }
    args.out.write_text(json.dumps(setup, indent=2) + "\n")
    print(f"owner {OWNER_SLUG}, webhook endpoint {endpoint.pk}, two connections to telegram.send_message")
    return 0


# ------------------------------------------------------------------------------------ measure


def _mac_digits(mac: str) -> str:
    return re.sub(r"[^0-9a-f]", "", mac.lower())


class MessageLog:
    """The fake Telegram's log, read as it grows: arrival times per event."""

    def __init__(self, path: Path, pattern: re.Pattern):
        self.path, self.pattern, self.offset = path, pattern, 0
        self.arrivals: dict[str, list[float]] = {}
        self.unmatched = 0
        self.last_arrival: float | None = None

    def read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as log:
            log.seek(self.offset)
            for line in log:
                if not line.endswith(b"\n"):  # the fake is writing it; read it next time
                    break
                self.offset += len(line)
                entry = json.loads(line)
                self.last_arrival = entry["t"]
                match = self.pattern.match(entry.get("text", ""))
                if match:
                    self.arrivals.setdefault(match["event"], []).append(entry["t"])
                else:
                    self.unmatched += 1


def _committed(kind: str, setup: dict, requests: list[dict]) -> dict[str, str]:
    """key → event id of every request whose work is in the database."""
    if kind == "devices":
        by_digits = {_mac_digits(r["key"]): r["key"] for r in requests}
        stored = Device.objects.values_list("mac_address", "device_id")
        return {by_digits[_mac_digits(mac)]: device_id for mac, device_id in stored if _mac_digits(mac) in by_digits}
    sent = {r["key"] for r in requests}
    stored = WebhookDelivery.objects.filter(
        endpoint_id=setup["endpoint_id"], outcome=WebhookDelivery.Outcome.ACCEPTED
    ).values_list("delivery_id", flat=True)
    return {delivery_id: delivery_id for delivery_id in stored if delivery_id in sent}


def _diagnosis(kind: str, setup: dict, lost: list[str]) -> dict:
    """Where the hub's own bookkeeping left the lost events (internals: best effort, may change)."""
    try:
        from devices.models import DeviceEvent
        from integrations.models import IntegrationRun

        runs = IntegrationRun.objects.filter(trigger=IntegrationRun.Trigger.CONNECTION)
        diagnosis = {"runs_by_status": dict(Counter(runs.values_list("status", flat=True)))}
        if kind == "devices":
            events = DeviceEvent.objects.filter(device_id__in=lost, kind="device.registered")
            diagnosis["lost_events_never_dispatched"] = events.filter(dispatched_at__isnull=True).count()
            keys = [f"device-event:{event_id}" for event_id in events.values_list("id", flat=True)]
        else:
            deliveries = WebhookDelivery.objects.filter(endpoint_id=setup["endpoint_id"], delivery_id__in=lost)
            diagnosis["lost_deliveries_not_in_database"] = len(lost) - deliveries.count()
            diagnosis["lost_deliveries_unprocessed"] = deliveries.filter(processed=False).count()
            keys = [f"webhook-delivery:{pk}" for pk in deliveries.values_list("pk", flat=True)]
        lost_runs = runs.filter(event_key__in=keys)
        diagnosis["lost_events_without_run"] = len(keys) - lost_runs.count()
        diagnosis["lost_runs"] = dict(
            Counter(
                f"{status} {code} {message}".strip()
                for status, code, message in lost_runs.values_list("status", "error_code", "error_message")
            )
        )
        return diagnosis
    except Exception as exc:  # the internals moved: the figures stand without this
        return {"unavailable": f"{type(exc).__name__}: {exc}"}


def _wait_for_database(until: float) -> None:
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError:
            connection.close()
            if time.time() > until:
                raise
            time.sleep(1)


def measure(args) -> int:
    directory = args.dir
    setup = json.loads((directory.parent / "setup.json").read_text())
    timeline = json.loads((directory / "timeline.json").read_text())
    requests = [json.loads(line) for line in (directory / "requests.jsonl").read_text().splitlines()]
    pattern = DEVICE_MESSAGE if args.kind == "devices" else WEBHOOK_MESSAGE
    log = MessageLog(directory / "messages.jsonl", pattern)
    fault_end = timeline["fault_end"]
    give_up_at = fault_end + args.deadline
    _wait_for_database(give_up_at)
    complete_since = None
    last_progress = 0.0
    while True:
        log.read()
        connection.close()  # a fresh connection each round: the database may have restarted
        committed = _committed(args.kind, setup, requests)
        result = figures.experiment_figures(
            requests=requests,
            committed=committed,
            messages=log.arrivals,
            unmatched_messages=log.unmatched,
            acknowledged_is_commitment=args.kind == "webhooks",
            fault_end=fault_end,
        )
        now = time.time()
        if result["lost"] == 0:
            complete_since = complete_since or now
            if now - complete_since >= args.settle:
                break
        else:
            complete_since = None
        # Past the deadline, a backlog that is still draining (messages arriving) gets its time,
        # up to --max-wait; work that is stuck does not.
        quiet = now - (log.last_arrival or fault_end)
        if now >= give_up_at and (quiet >= args.quiet or now >= fault_end + args.max_wait):
            break
        if now - last_progress >= 15:
            last_progress = now
            print(
                f"  +{now - fault_end:.0f} s after the fault: {result['processed']} of {result['expected']} events "
                f"have their message, {result['lost']} missing",
                flush=True,
            )
        time.sleep(args.poll)
    result["name"] = args.name
    result["timeline"] = timeline
    result["deadline_seconds"] = args.deadline
    result["settle_seconds"] = args.settle
    result["quiet_seconds"] = args.quiet
    result["waited_seconds_after_fault"] = round(time.time() - fault_end, 1)
    if result["lost"]:
        result["diagnosis"] = _diagnosis(args.kind, setup, result["lost_events"])
    (directory / "figures.json").write_text(json.dumps(result, indent=2) + "\n")
    print(figures.experiment_line(args.name, result, waited=result["waited_seconds_after_fault"]), flush=True)
    if result.get("diagnosis"):
        print(f"  diagnosis (the hub's bookkeeping): {json.dumps(result['diagnosis'])}", flush=True)
    return 0


def summary(args) -> int:
    lines, failed = [], []
    for path in sorted(args.run_dir.glob("*/figures.json")):
        result = json.loads(path.read_text())
        lines.append(figures.experiment_line(result["name"], result, waited=result["waited_seconds_after_fault"]))
        problems = figures.experiment_problems(result)
        if result["recovery_seconds"] is None:
            problems.append(f"not recovered within {result['waited_seconds_after_fault']:g} s")
        if problems:
            failed.append(f"{result['name']}: {'; '.join(problems)}")
    text = "\n".join(lines + [""] + (["FAILED"] + failed if failed else ["ok: nothing lost or duplicated"])) + "\n"
    (args.run_dir / "summary.txt").write_text(text)
    print(text, end="")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("setup")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=setup)
    p = commands.add_parser("measure")
    p.add_argument("--kind", choices=["devices", "webhooks"], required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--deadline", type=float, default=180)
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--quiet", type=float, default=30)
    p.add_argument("--max-wait", type=float, default=600)
    p.add_argument("--poll", type=float, default=1.0)
    p.set_defaults(run=measure)
    p = commands.add_parser("summary")
    p.add_argument("run_dir", type=Path)
    p.set_defaults(run=summary)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
