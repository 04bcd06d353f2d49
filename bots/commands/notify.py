"""`/notify`: which event kinds the chat is told about, one button each (✅ on, ⬜ off)."""

from django.utils.translation import gettext

from bots import selectors, services
from bots.commands.access import Context, Malformed
from bots.commands.replies import Button, Reply
from devices.models import DeviceEvent

PREFIX = "nt"
Kind = DeviceEvent.Kind
# Short codes for the buttons' data, in the order the buttons show.
KIND_CODES = {
    "reg": Kind.REGISTERED,
    "off": Kind.OFFLINE,
    "on": Kind.ONLINE,
    "chg": Kind.CONFIG_CHANGED,
    "app": Kind.CONFIG_APPLIED,
}


def kind_label(kind: str) -> str:
    labels = {
        Kind.REGISTERED: gettext("New device registered"),
        Kind.OFFLINE: gettext("Device went offline"),
        Kind.ONLINE: gettext("Device back online"),
        Kind.CONFIG_CHANGED: gettext("Config changed"),
        Kind.CONFIG_APPLIED: gettext("Config applied by the device"),
    }
    return labels[kind]


def _menu(ctx: Context) -> Reply:
    kinds_on = selectors.bot_user_event_kinds(bot_user=ctx.bot_user)
    buttons = [
        [Button(f"{'✅' if kind in kinds_on else '⬜'} {kind_label(kind)}", f"{PREFIX}:{code}")]
        for code, kind in KIND_CODES.items()
    ]
    text = gettext("Choose what this chat is told about (press to turn on or off):")
    if selectors.bot_user_followed_device_ids(bot_user=ctx.bot_user):
        text += "\n" + gettext("Only about the devices it follows (/devices marks them with ★).")
    return Reply(text, buttons=buttons)


def notify(ctx: Context, args: str) -> Reply:
    return _menu(ctx)


def notify_pressed(ctx: Context, fields: list[str]) -> Reply:
    if len(fields) != 1 or fields[0] not in KIND_CODES:
        raise Malformed
    kind = KIND_CODES[fields[0]]
    now_on = services.subscription_toggle(bot_user=ctx.bot_user, event_kind=kind)
    reply = _menu(ctx)
    reply.edit = True
    template = gettext("%(kind)s: on") if now_on else gettext("%(kind)s: off")
    reply.notice = template % {"kind": kind_label(kind)}
    return reply
