"""The notification texts: one event's message, or a digest of many. Plain text (no parse
mode), in the language active when they are composed (the flush overrides it with the bot
user's); every string goes through gettext, English is the fallback.

The registration message keeps the original server's content: "New device registered!", the
ID, the location as (lon, lat), owner, measurement type and sensor model.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from devices.models import DeviceEvent

Kind = DeviceEvent.Kind


@dataclass(frozen=True)
class EventNote:
    """What a text needs of one event."""

    kind: str
    device_id: str
    payload: dict
    created_at: dt.datetime


def event_text(note: EventNote) -> str:
    p = note.payload
    device = p.get("device_id") or note.device_id
    if note.kind == Kind.REGISTERED:
        return "\n".join(
            [
                _("New device registered!"),
                _("ID: %(id)s") % {"id": device},
                _("Location: (%(lon)s, %(lat)s)") % {"lon": p.get("longitude"), "lat": p.get("latitude")},
                _("Owner: %(owner)s") % {"owner": p.get("owner", "")},
                _("Measurement Type: %(type)s") % {"type": p.get("measurement_type", "")},
                _("Sensor Model: %(model)s") % {"model": p.get("sensor_model", "")},
            ]
        )
    if note.kind == Kind.CONFIG_CHANGED:
        lines = [
            _("Config of device %(id)s changed (version %(version)s):") % {"id": device, "version": p.get("version")}
        ]
        old, new = p.get("old") or {}, p.get("new") or {}
        for field, label in (("send_interval", _("send interval, s")), ("qos", _("QoS"))):
            if field in new:
                lines.append(f"{label}: {old.get(field, '—')} → {new[field]}")
        lines.append(_("Owner: %(owner)s") % {"owner": p.get("owner", "")})
        return "\n".join(lines)
    if note.kind == Kind.CONFIG_APPLIED:
        return "\n".join(
            [
                _("Device %(id)s applied config version %(version)s.") % {"id": device, "version": p.get("version")},
                _("Owner: %(owner)s") % {"owner": p.get("owner", "")},
            ]
        )
    if note.kind == Kind.OFFLINE:
        lines = [_("Device %(id)s went offline.") % {"id": device}]
        if p.get("last_seen"):
            lines.append(_("Last seen: %(at)s") % {"at": _when(p["last_seen"])})
        lines.append(_("Owner: %(owner)s") % {"owner": p.get("owner", "")})
        return "\n".join(lines)
    if note.kind == Kind.ONLINE:
        return "\n".join(
            [
                _("Device %(id)s is back online.") % {"id": device},
                _("Owner: %(owner)s") % {"owner": p.get("owner", "")},
            ]
        )
    return _("Device %(id)s: %(event)s") % {"id": device, "event": note.kind}


def _kind_headline(kind: str, count: int, period: str) -> str:
    values = {"count": count, "period": period}
    if kind == Kind.REGISTERED:
        return (
            ngettext("%(count)d device registered %(period)s", "%(count)d devices registered %(period)s", count)
            % values
        )
    if kind == Kind.OFFLINE:
        return (
            ngettext("%(count)d device went offline %(period)s", "%(count)d devices went offline %(period)s", count)
            % values
        )
    if kind == Kind.ONLINE:
        return (
            ngettext(
                "%(count)d device came back online %(period)s", "%(count)d devices came back online %(period)s", count
            )
            % values
        )
    if kind == Kind.CONFIG_CHANGED:
        return ngettext("%(count)d config change %(period)s", "%(count)d config changes %(period)s", count) % values
    if kind == Kind.CONFIG_APPLIED:
        return (
            ngettext(
                "%(count)d device applied a new config %(period)s",
                "%(count)d devices applied a new config %(period)s",
                count,
            )
            % values
        )
    return f"{kind}: {count}"


# Kinds in the order a digest lists them: what needs attention first.
_DIGEST_ORDER = [Kind.OFFLINE, Kind.ONLINE, Kind.REGISTERED, Kind.CONFIG_CHANGED, Kind.CONFIG_APPLIED]


def _period(seconds: float) -> str:
    if seconds <= 60:
        return _("in the last minute")
    minutes = int(seconds // 60) + 1
    return ngettext("in the last %(n)d minute", "in the last %(n)d minutes", minutes) % {"n": minutes}


def digest_text(notes: Sequence[EventNote], *, now: dt.datetime, ids_per_kind: int) -> str:
    """One message for many events: per kind, how many (all of them are counted) and the first
    `ids_per_kind` device ids, "and N more" for the rest."""
    by_kind: dict[str, list[EventNote]] = {}
    for note in notes:
        by_kind.setdefault(note.kind, []).append(note)
    oldest = min(note.created_at for note in notes)
    period = _period((now - oldest).total_seconds())
    blocks = []
    for kind in sorted(by_kind, key=lambda k: _DIGEST_ORDER.index(k) if k in _DIGEST_ORDER else len(_DIGEST_ORDER)):
        kind_notes = by_kind[kind]
        ids = [note.payload.get("device_id") or note.device_id for note in kind_notes]
        # Ten ids a line: a long list is split between messages at a line's end, never inside an id.
        shown = ids[:ids_per_kind]
        listed = ",\n".join(", ".join(shown[at : at + 10]) for at in range(0, len(shown), 10))
        rest = len(ids) - min(len(ids), ids_per_kind)
        if rest:
            listed = _("%(listed)s, and %(rest)d more") % {"listed": listed, "rest": rest}
        blocks.append(f"{_kind_headline(kind, len(ids), period)}: {listed}")
    return "\n\n".join(blocks)


def _when(value: str) -> str:
    try:
        return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return value
