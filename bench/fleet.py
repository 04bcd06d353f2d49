"""Database-side steps of the benchmark, run with the hub's own settings and services.

    python bench/fleet.py owner SLUG                       create the owner, print its secret
    python bench/fleet.py registered --expected N --keys F... --devices OUT --check OUT
    python bench/fleet.py race --expected-total N --series-prefix 02:02: --expected N --check OUT
    python bench/fleet.py events --check OUT               purge the task queue, compare with the outbox

Each check writes a JSON file {"name", "ok", "figures": {...}, "problems": [...]} that
bench/report.py prints with the wrk results, and exits with status 1 if it failed.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from devices import boot_cache, services  # noqa: E402
from devices.models import Device, DeviceConfig, DeviceEvent  # noqa: E402


def _write_check(path: str, name: str, figures: dict, problems: list[str]) -> None:
    """Write the check for bench/report.py; a failed one also ends this script with status 1."""
    check = {"name": name, "ok": not problems, "figures": figures, "problems": problems}
    Path(path).write_text(json.dumps(check, indent=2) + "\n")
    if problems:
        sys.exit(1)


def owner(args) -> None:
    _, secret = services.owner_create(name=f"Benchmark {args.slug}", slug=args.slug)
    print(secret)


def _fleet_figures() -> dict:
    return Device.objects.aggregate(devices=Count("device_id"), distinct_macs=Count("mac_address", distinct=True))


def registered(args) -> None:
    """After the storm: one device per MAC, a config each, and a working key file for the fetches."""
    problems = []
    keys = {}
    lines = 0
    for keys_file in args.keys:
        for line in Path(keys_file).read_text().splitlines():
            lines += 1
            device_id, _, key = line.partition(" ")
            keys[device_id] = key
    figures = {
        **_fleet_figures(),
        "configs": DeviceConfig.objects.count(),
        "key_lines": lines,
        "distinct_device_ids_in_responses": len(keys),
    }
    for name in ("devices", "distinct_macs", "configs", "key_lines", "distinct_device_ids_in_responses"):
        if figures[name] != args.expected:
            problems.append(f"{name}: {figures[name]}, expected {args.expected}")
    versions = dict(DeviceConfig.objects.filter(device_id__in=keys).values_list("device_id", "version"))
    unknown = len(set(keys) - set(versions))
    if unknown:
        problems.append(f"{unknown} device_ids of the responses are not in the database")
    with open(args.devices, "w") as out:
        for device_id, key in keys.items():
            if device_id in versions:
                out.write(f"{device_id} {key} {boot_cache.config_etag(device_id, versions[device_id])}\n")
    _write_check(args.check, "registration storm: no duplicates", figures, problems)


def race(args) -> None:
    """After registering each MAC twice at once: still one device per MAC, nothing lost."""
    figures = {
        **_fleet_figures(),
        "race_devices": Device.objects.filter(mac_address__startswith=args.series_prefix).count(),
    }
    problems = []
    if figures["devices"] != args.expected_total or figures["distinct_macs"] != args.expected_total:
        problems.append(
            f"devices {figures['devices']}, distinct MACs {figures['distinct_macs']}, expected {args.expected_total}"
        )
    if figures["race_devices"] != args.expected:
        problems.append(f"race MACs: {figures['race_devices']} devices, expected {args.expected}")
    _write_check(args.check, "same-MAC race: no duplicates", figures, problems)


def events(args) -> None:
    """Every registration enqueued its event for the worker; none runs in the bench, so purge."""
    figures = {"outbox_events": DeviceEvent.objects.count(), "queued_tasks": celery_app.control.purge()}
    problems = []
    if figures["queued_tasks"] != figures["outbox_events"]:
        problems.append(f"{figures['queued_tasks']} tasks queued for {figures['outbox_events']} events")
    _write_check(args.check, "events enqueued to the broker (then purged)", figures, problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)
    p = commands.add_parser("owner")
    p.add_argument("slug")
    p.set_defaults(run=owner)
    p = commands.add_parser("registered")
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--keys", nargs="+", required=True)
    p.add_argument("--devices", required=True)
    p.add_argument("--check", required=True)
    p.set_defaults(run=registered)
    p = commands.add_parser("race")
    p.add_argument("--expected-total", type=int, required=True)
    p.add_argument("--expected", type=int, required=True)
    p.add_argument("--series-prefix", required=True)
    p.add_argument("--check", required=True)
    p.set_defaults(run=race)
    p = commands.add_parser("events")
    p.add_argument("--check", required=True)
    p.set_defaults(run=events)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
