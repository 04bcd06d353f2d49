"""The device commands that read and follow: `/devices` (paged), `/status`, `/add_device`,
`/remove_device`. Every one looks at the bot user's scope only: a device of another owner is
"not found", exactly like one that does not exist."""

import datetime as dt
import math

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext

from bots import selectors, services
from bots.commands.access import Context, Malformed, device_config, device_id_clean, device_in_scope
from bots.commands.replies import Button, Reply
from devices.models import Device

PAGE_SIZE = 10
PAGE_PREFIX = "dv"
JUST_NOW = dt.timedelta(minutes=1)


def seen_phrase(device: Device, *, exact: bool = False) -> str:
    """ "online, last seen 3 minutes ago" (with the UTC time when `exact`)."""
    if not device.is_active:
        state = gettext("deactivated")
    elif device.last_seen is None:
        return gettext("not seen yet")
    else:
        state = gettext("online") if device.is_online else gettext("offline")
    if device.last_seen is None:
        return state
    if timezone.now() - device.last_seen < JUST_NOW:
        seen = gettext("last seen just now")
    else:
        seen = gettext("last seen %(ago)s ago") % {"ago": timesince(device.last_seen, depth=1)}
    if exact:
        seen += f" ({device.last_seen:%Y-%m-%d %H:%M} UTC)"
    return f"{state}, {seen}"


def _status_mark(device: Device) -> str:
    if not device.is_active or device.last_seen is None:
        return "⚪"
    return "🟢" if device.is_online else "🔴"


def _device_line(device: Device, *, followed: bool, with_owner: bool) -> str:
    parts = [device.device_id, device.city, device.measurement_type.name]
    if with_owner:
        parts.insert(1, device.owner.slug)
    mark = " ★" if followed else ""
    return f"{_status_mark(device)} {' · '.join(parts)}{mark} — {seen_phrase(device)}"


def devices(ctx: Context, args: str) -> Reply:
    return _devices_page(ctx, page=1)


def devices_page_pressed(ctx: Context, fields: list[str]) -> Reply:
    if len(fields) != 1 or not fields[0].isdigit() or int(fields[0]) < 1:
        raise Malformed
    reply = _devices_page(ctx, page=int(fields[0]))
    reply.edit = True
    return reply


def _devices_page(ctx: Context, *, page: int) -> Reply:
    scope = selectors.bot_user_devices(bot_user=ctx.bot_user)
    count = scope.count()
    if count == 0:
        return Reply(gettext("There are no devices here yet."))
    pages = math.ceil(count / PAGE_SIZE)
    page = min(page, pages)  # devices may have gone since the button was made
    shown = list(scope[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    followed = selectors.bot_user_followed_device_ids(bot_user=ctx.bot_user)
    lines = [
        gettext("%(devices)s, page %(page)d of %(pages)d:")
        % {
            "devices": ngettext("%(count)d device", "%(count)d devices", count) % {"count": count},
            "page": page,
            "pages": pages,
        }
    ]
    with_owner = ctx.bot_user.sees_all_owners
    lines += [_device_line(d, followed=d.device_id in followed, with_owner=with_owner) for d in shown]
    if followed:
        lines.append(
            ngettext(
                "★ This chat follows %(count)d device and is told about it only.",
                "★ This chat follows %(count)d devices and is told about those only.",
                len(followed),
            )
            % {"count": len(followed)}
        )
    lines.append(gettext("Send /status followed by a device id for details."))
    row = []
    if page > 1:
        row.append(Button(gettext("« Previous"), f"{PAGE_PREFIX}:{page - 1}"))
    if page < pages:
        row.append(Button(gettext("Next »"), f"{PAGE_PREFIX}:{page + 1}"))
    return Reply("\n".join(lines), buttons=[row] if row else [])


def _usage(command: str) -> str:
    return gettext("Send /%(command)s followed by a device id, for example /%(command)s 0123456789abcdef.") % {
        "command": command
    }


def status(ctx: Context, args: str) -> Reply:
    device, problem = device_in_scope(ctx, args, usage=_usage("status"))
    if problem:
        return problem
    lines = [
        gettext("Device %(device_id)s") % {"device_id": device.device_id},
        gettext("Owner: %(owner)s") % {"owner": device.owner.name},
        gettext("City: %(city)s") % {"city": device.city},
        gettext("Type: %(type)s") % {"type": device.measurement_type.name},
        gettext("Model: %(model)s") % {"model": device.sensor_model or "—"},
        gettext("Status: %(status)s") % {"status": seen_phrase(device, exact=True)},
    ]
    config = device_config(device)
    if config is not None:
        lines.append(
            gettext("Config: interval %(interval)d s, QoS %(qos)d, version %(version)d")
            % {"interval": config.send_interval, "qos": config.qos, "version": config.version}
        )
        if config.applied_version is None:
            lines.append(gettext("Applied: not reported yet"))
        elif config.is_applied:
            lines.append(gettext("Applied: version %(version)d (up to date)") % {"version": config.applied_version})
        else:
            lines.append(
                gettext("Applied: version %(applied)d (version %(version)d pending)")
                % {"applied": config.applied_version, "version": config.version}
            )
    if selectors.bot_user_follows(bot_user=ctx.bot_user, device_id=device.device_id):
        lines.append(gettext("This chat follows this device."))
    return Reply("\n".join(lines))


def add_device(ctx: Context, args: str) -> Reply:
    device, problem = device_in_scope(ctx, args, usage=_usage("add_device"))
    if problem:
        return problem
    if not services.device_follow(bot_user=ctx.bot_user, device=device):
        return Reply(gettext("This chat follows %(device_id)s already.") % {"device_id": device.device_id})
    count = len(selectors.bot_user_followed_device_ids(bot_user=ctx.bot_user))
    return Reply(
        ngettext(
            "Now following %(device_id)s. This chat is told about the %(count)d device it follows only.",
            "Now following %(device_id)s. This chat is told about the %(count)d devices it follows only.",
            count,
        )
        % {"device_id": device.device_id, "count": count}
    )


def remove_device(ctx: Context, args: str) -> Reply:
    words = args.split()
    device_id = device_id_clean(words[0]) if words else ""
    # A followed device may be out of scope now (a new invitation changed the owner): it can
    # still be unfollowed, and naming it tells the chat nothing it did not know.
    if not (device_id and services.device_unfollow(bot_user=ctx.bot_user, device_id=device_id)):
        device, problem = device_in_scope(ctx, args, usage=_usage("remove_device"))
        if problem:
            return problem
        return Reply(gettext("This chat does not follow %(device_id)s.") % {"device_id": device.device_id})
    count = len(selectors.bot_user_followed_device_ids(bot_user=ctx.bot_user))
    if count == 0:
        return Reply(
            gettext(
                "Stopped following %(device_id)s. This chat follows no devices now, so it is told about all "
                "of them again."
            )
            % {"device_id": device_id}
        )
    return Reply(
        ngettext(
            "Stopped following %(device_id)s. This chat still follows %(count)d device.",
            "Stopped following %(device_id)s. This chat still follows %(count)d devices.",
            count,
        )
        % {"device_id": device_id, "count": count}
    )
