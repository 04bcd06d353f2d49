"""Who may use what, and the answers every command shares: no access yet, administrators only,
a device not found, a button that no longer means anything."""

import enum
import re
from dataclasses import dataclass

from django.utils.translation import gettext

from bots import selectors
from bots.commands.incoming import Incoming
from bots.commands.replies import Reply
from bots.models import BotUser, Role
from devices.models import Device, DeviceConfig

DEVICE_ID = re.compile(r"[0-9a-f]{16}")


class Level(enum.IntEnum):
    """What a command needs: anyone, access to an owner's devices, or the administrator role."""

    ANYONE = 0
    READER = 1
    ADMINISTRATOR = 2


def level_of(bot_user: BotUser) -> Level:
    if not bot_user.has_access:
        return Level.ANYONE
    if bot_user.role == Role.ADMINISTRATOR:
        return Level.ADMINISTRATOR
    return Level.READER  # a manager, or a TELEGRAM_CHAT_ID chat without a role


@dataclass(frozen=True)
class Context:
    """A command's call: what came in, and the bot user it came from (touched already)."""

    incoming: Incoming
    bot_user: BotUser

    @property
    def level(self) -> Level:
        return level_of(self.bot_user)


class Malformed(Exception):
    """Callback data no button of ours carries (old, truncated or forged): answered with
    `outdated_button`, never an error."""


def how_to_get_access() -> str:
    return gettext(
        "This chat has no access to any devices yet.\n"
        "Ask an administrator of the hub for an invitation link and open it here; it connects "
        "this chat to the devices of an owner.\n"
        "Send /chatid if they ask which chat this is."
    )


def no_access_reply(*, edit: bool = False) -> Reply:
    return Reply(how_to_get_access(), edit=edit, notice=gettext("No access yet.") if edit else None)


def administrators_only_reply(*, edit: bool = False) -> Reply:
    text = gettext("Only administrators can change a device's config; this chat is a manager.")
    return Reply(text, edit=edit, notice=text if edit else None)


def device_not_found_reply(device_id: str) -> Reply:
    return Reply(
        gettext("Device %(device_id)s not found among your devices. Send /devices to see them.")
        % {"device_id": device_id[:32]}
    )


def outdated_button_reply() -> Reply:
    return Reply("", notice=gettext("This button is outdated. Send the command again."))


def device_id_clean(raw: str) -> str:
    """The device id as typed, in the form ids are stored (lower-case hex)."""
    return raw.strip().lower()


def is_device_id(text: str) -> bool:
    return DEVICE_ID.fullmatch(text) is not None


def actor_name(incoming: Incoming) -> str:
    """Who did it, for a device's history: "Telegram user @name" (or the sender's name)."""
    platform = BotUser.Platform(incoming.platform).label if incoming.platform in BotUser.Platform.values else ""
    platform = platform or incoming.platform.capitalize()
    if incoming.sender_username:
        return f"{platform} user @{incoming.sender_username}"
    name = incoming.sender_name or incoming.display_name or incoming.chat_id
    return f"{platform} user {name}"


def device_in_scope(ctx: Context, args: str, *, usage: str) -> tuple[Device | None, Reply | None]:
    """The device named by the first argument, or the reply that says why there is none."""
    words = args.split()
    if not words:
        return None, Reply(usage)
    device_id = device_id_clean(words[0])
    device = selectors.bot_user_device(bot_user=ctx.bot_user, device_id=device_id) if is_device_id(device_id) else None
    if device is None:
        return None, device_not_found_reply(words[0])
    return device, None


def device_config(device: Device) -> DeviceConfig | None:
    """Its config (every registered device has one; None rather than an error if not)."""
    try:
        return device.config
    except Device.config.RelatedObjectDoesNotExist:
        return None
