"""`/change_config <device_id> interval=<s> qos=<n>` (administrators): shows old → new and asks
to confirm with a button. The confirmation goes through `devices.services.config_update`, as the
API and the admin do, so validation, the version bump, the history ("Telegram user @name") and
the device event are the same; it carries the config version the chat was shown, so a config
that changed in between is not overwritten (a Conflict, answered in plain words)."""

from django.utils.translation import gettext, pgettext

from bots import selectors
from bots.commands.access import (
    Context,
    Malformed,
    actor_name,
    device_config,
    device_in_scope,
    device_not_found_reply,
    is_device_id,
)
from bots.commands.replies import Button, Reply
from bots.models import BotUser
from config.errors import Conflict, DomainError
from devices.models import SEND_INTERVAL_MAX, SEND_INTERVAL_MIN, ConfigChange, Device
from devices.services import config_update

PREFIX = "cc"
CANCEL = f"{PREFIX}:no"
UNCHANGED = "-"
KEYS = {"interval": "interval", "send_interval": "interval", "qos": "qos"}
# The history's source of a change made through each platform's bot.
SOURCES = {BotUser.Platform.TELEGRAM: ConfigChange.Source.TELEGRAM}


def _usage() -> str:
    return gettext(
        "Send /change_config followed by a device id and the new values, for example "
        "/change_config 0123456789abcdef interval=60 qos=1."
    )


def _values(words: list[str]) -> tuple[dict[str, int], str | None]:
    """{"interval": s, "qos": n} from words like interval=60, or the answer that explains why not."""
    values: dict[str, int] = {}
    for word in words:
        key, _, value = word.partition("=")
        key = KEYS.get(key.lower())
        if key is None or not value.isdigit() or len(value) > 9:
            return {}, gettext(
                "I did not understand %(word)s. Give interval=<seconds> and/or qos=<0, 1 or 2>, for example "
                "interval=60 qos=1."
            ) % {"word": word[:40]}
        values[key] = int(value)
    if not values:
        return {}, _usage()
    interval, qos = values.get("interval"), values.get("qos")
    if interval is not None and not SEND_INTERVAL_MIN <= interval <= SEND_INTERVAL_MAX:
        return {}, gettext("The interval must be between %(min)d and %(max)d seconds.") % {
            "min": SEND_INTERVAL_MIN,
            "max": SEND_INTERVAL_MAX,
        }
    if qos is not None and qos not in (0, 1, 2):
        return {}, gettext("QoS must be 0, 1 or 2.")
    return values, None


def _change_line(label: str, old: int, new: int | None, unit: str = "") -> str:
    if new is None or new == old:
        return gettext("%(what)s: %(old)s (unchanged)") % {"what": label, "old": f"{old}{unit}"}
    return f"{label}: {old}{unit} → {new}{unit}"


def change_config(ctx: Context, args: str) -> Reply:
    device, problem = device_in_scope(ctx, args, usage=_usage())
    if problem:
        return problem
    values, problem = _values(args.split()[1:])
    if problem:
        return Reply(problem)
    config = device_config(device)
    if config is None:
        return device_not_found_reply(device.device_id)
    interval, qos = values.get("interval"), values.get("qos")
    if interval in (None, config.send_interval) and qos in (None, config.qos):
        return Reply(
            gettext("Nothing to change: %(device_id)s has interval %(interval)d s and QoS %(qos)d already.")
            % {"device_id": device.device_id, "interval": config.send_interval, "qos": config.qos}
        )
    seconds = " " + pgettext("unit", "s")
    text = "\n".join(
        [
            gettext("Change the config of %(device_id)s?") % {"device_id": device.device_id},
            _change_line(gettext("Interval"), config.send_interval, interval, seconds),
            _change_line(gettext("QoS"), config.qos, qos),
            gettext("Its config is version %(version)d now; the change makes version %(next)d.")
            % {"version": config.version, "next": config.version + 1},
        ]
    )
    data = ":".join(
        [PREFIX, device.device_id, _field(interval), _field(qos), str(config.version)],
    )
    return Reply(text, buttons=[[Button(gettext("Change it"), data), Button(gettext("Cancel"), CANCEL)]])


def _field(value: int | None) -> str:
    return UNCHANGED if value is None else str(value)


def _parsed(fields: list[str]) -> tuple[str, int | None, int | None, int]:
    """The confirmation's device id, interval, QoS and seen version; Malformed if it is none of ours."""
    if len(fields) != 4:
        raise Malformed
    device_id, interval, qos, version = fields
    if not is_device_id(device_id) or not version.isdigit() or {interval, qos} == {UNCHANGED}:
        raise Malformed
    for value in (interval, qos):
        if value != UNCHANGED and not (value.isdigit() and len(value) <= 9):
            raise Malformed
    as_int = lambda value: None if value == UNCHANGED else int(value)  # noqa: E731
    return device_id, as_int(interval), as_int(qos), int(version)


def change_config_pressed(ctx: Context, fields: list[str]) -> Reply:
    if fields == ["no"]:
        return Reply(gettext("The config was not changed."), edit=True)
    device_id, interval, qos, seen_version = _parsed(fields)
    device: Device | None = selectors.bot_user_device(bot_user=ctx.bot_user, device_id=device_id)
    if device is None:
        reply = device_not_found_reply(device_id)
        reply.edit = True
        return reply
    try:
        config = config_update(
            device=device,
            send_interval=interval,
            qos=qos,
            source=SOURCES[ctx.incoming.platform],
            actor=actor_name(ctx.incoming),
            expected_version=seen_version,
        )
    except Conflict:
        device.config.refresh_from_db()
        return Reply(
            gettext(
                "The config of %(device_id)s changed since you asked (it is version %(version)d now). Nothing was "
                "changed: send /change_config again to see the current values."
            )
            % {"device_id": device_id, "version": device.config.version},
            edit=True,
            notice=gettext("Not changed."),
        )
    except DomainError as exc:
        return Reply(gettext("The change was refused: %(reason)s") % {"reason": exc.detail}, edit=True)
    if config.version == seen_version:
        return Reply(
            gettext("Nothing changed: %(device_id)s has these values already.") % {"device_id": device_id}, edit=True
        )
    return Reply(
        gettext("Done: %(device_id)s has config version %(version)d now: interval %(interval)d s, QoS %(qos)d.")
        % {"device_id": device_id, "version": config.version, "interval": config.send_interval, "qos": config.qos},
        edit=True,
        notice=gettext("Config changed."),
    )
