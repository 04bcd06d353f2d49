"""The notification texts: the registration message as the original server wrote it, the other
kinds readable, digests that count every event."""

import datetime as dt

from bots.notifications.texts import EventNote, digest_text, event_text
from devices.models import DeviceEvent

Kind = DeviceEvent.Kind
NOW = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
DEVICE = {
    "device_id": "a1b2c3d4e5f60718",
    "owner": "acme",
    "city": "Berlin",
    "measurement_type": "temperature",
    "sensor_model": "DHT22",
    "latitude": 52.52,
    "longitude": 13.405,
}


def note(kind, **payload) -> EventNote:
    return EventNote(kind=kind, device_id=DEVICE["device_id"], payload={**DEVICE, **payload}, created_at=NOW)


def test_the_registration_message_has_the_originals_content():
    assert event_text(note(Kind.REGISTERED, is_new=True)) == (
        "New device registered!\n"
        "ID: a1b2c3d4e5f60718\n"
        "Location: (13.405, 52.52)\n"
        "Owner: acme\n"
        "Measurement Type: temperature\n"
        "Sensor Model: DHT22"
    )


def test_the_other_kinds_say_what_happened_to_which_device():
    changed = event_text(
        note(Kind.CONFIG_CHANGED, version=3, old={"send_interval": 60, "qos": 1}, new={"send_interval": 30, "qos": 1})
    )
    assert changed.splitlines() == [
        "Config of device a1b2c3d4e5f60718 changed (version 3):",
        "send interval, s: 60 → 30",
        "QoS: 1 → 1",
        "Owner: acme",
    ]
    assert event_text(note(Kind.CONFIG_APPLIED, version=3)).startswith(
        "Device a1b2c3d4e5f60718 applied config version 3."
    )
    offline = event_text(note(Kind.OFFLINE, last_seen="2025-01-01T11:50:00+00:00"))
    assert offline.splitlines()[:2] == ["Device a1b2c3d4e5f60718 went offline.", "Last seen: 2025-01-01 11:50:00 UTC"]
    assert event_text(note(Kind.ONLINE)).startswith("Device a1b2c3d4e5f60718 is back online.")


def test_a_digest_counts_every_event_and_lists_a_few_ids_per_kind():
    notes = [note(Kind.OFFLINE, device_id=f"dev{n:03d}") for n in range(312)]
    notes += [note(Kind.ONLINE, device_id="back1")]

    text = digest_text(notes, now=NOW + dt.timedelta(seconds=30), ids_per_kind=10)

    offline, online = text.split("\n\n")
    listed = ", ".join(f"dev{n:03d}" for n in range(10))
    assert offline == f"312 devices went offline in the last minute: {listed}, and 302 more"
    assert online == "1 device came back online in the last minute: back1"


def test_a_digest_over_a_longer_span_says_how_long():
    notes = [note(Kind.REGISTERED, device_id=f"d{n}") for n in range(5)]

    text = digest_text(notes, now=NOW + dt.timedelta(minutes=4, seconds=10), ids_per_kind=10)

    assert text.startswith("5 devices registered in the last 5 minutes: d0, d1, d2, d3, d4")
