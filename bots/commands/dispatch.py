"""The commands' entry points for a platform adapter: a text (`handle_text`), a button press
(`handle_callback`), and the answer to stray private text while nothing else takes it
(`stray_text_reply`). Each touches the bot user, checks the level the command needs, and runs
the command in the bot user's language."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from bots import services
from bots.commands import accounts, config_change, fleet, notify
from bots.commands.access import (
    Context,
    Level,
    Malformed,
    administrators_only_reply,
    how_to_get_access,
    no_access_reply,
    outdated_button_reply,
)
from bots.commands.incoming import Incoming
from bots.commands.replies import CALLBACK_DATA_LIMIT, Reply

# "/name", "/name@bot_username", then the arguments; a name as Telegram allows it.
COMMAND = re.compile(r"/(?P<name>[A-Za-z0-9_]{1,64})(?:@(?P<addressee>[A-Za-z0-9_]{1,64}))?(?:\s+(?P<args>.*))?", re.S)


@dataclass(frozen=True)
class Command:
    handler: Callable[[Context, str], Reply]
    level: Level
    usage: str  # as /help shows it
    summary: Promise  # translated when /help is rendered


# In the order /help lists them.
COMMANDS: dict[str, Command] = {
    "start": Command(accounts.start, Level.ANYONE, "/start", gettext_lazy("register this chat, or open an invitation")),
    "help": Command(lambda ctx, args: help_reply(ctx), Level.ANYONE, "/help", gettext_lazy("this list")),
    "chatid": Command(accounts.chatid, Level.ANYONE, "/chatid", gettext_lazy("this chat's id")),
    "devices": Command(fleet.devices, Level.READER, "/devices", gettext_lazy("the devices, online or not")),
    "status": Command(fleet.status, Level.READER, "/status <device_id>", gettext_lazy("one device in detail")),
    "add_device": Command(
        fleet.add_device,
        Level.READER,
        "/add_device <device_id>",
        gettext_lazy("follow a device: once you follow any, you are told about those only"),
    ),
    "remove_device": Command(
        fleet.remove_device, Level.READER, "/remove_device <device_id>", gettext_lazy("stop following a device")
    ),
    "notify": Command(notify.notify, Level.READER, "/notify", gettext_lazy("choose what you are told about")),
    "change_config": Command(
        config_change.change_config,
        Level.ADMINISTRATOR,
        "/change_config <device_id> interval=<s> qos=<n>",
        gettext_lazy("change a device's send interval and MQTT QoS"),
    ),
    "forget_me": Command(
        accounts.forget_me, Level.ANYONE, "/forget_me", gettext_lazy("remove this chat and what is kept about it")
    ),
}

# Button data is "<prefix>:<fields>". A prefix names one format: a button whose format changes
# gets a new prefix, so a press on an old message falls into "outdated", never into a misreading.
CALLBACKS: dict[str, tuple[Callable[[Context, list[str]], Reply], Level]] = {
    fleet.PAGE_PREFIX: (fleet.devices_page_pressed, Level.READER),
    notify.PREFIX: (notify.notify_pressed, Level.READER),
    config_change.PREFIX: (config_change.change_config_pressed, Level.ADMINISTRATOR),
    "fm": (accounts.forget_me_pressed, Level.ANYONE),
}


def _context(incoming: Incoming) -> Context:
    bot_user = services.bot_user_touch(
        platform=incoming.platform,
        chat_id=incoming.chat_id,
        chat_type=incoming.chat_type,
        username=incoming.username,
        display_name=incoming.display_name,
        language_code=incoming.language_code,
    )
    return Context(incoming=incoming, bot_user=bot_user)


def _refusal(ctx: Context, needed: Level, *, edit: bool = False) -> Reply:
    if needed == Level.ADMINISTRATOR and ctx.level == Level.READER:
        return administrators_only_reply(edit=edit)
    return no_access_reply(edit=edit)


def handle_text(incoming: Incoming, text: str, *, bot_username: str = "") -> list[Reply] | None:
    """The answers to a message, [] for one the bot leaves alone, or None for private text that
    is no command.

    None is the seam for the operator bridge (Webim, next issue): private non-command text is a
    person writing to the operators, and the adapter hands it there — or, while there is no
    bridge, answers `stray_text_reply`. In a group, text that is no command is ignored, and so is
    a command addressed to another bot (`/cmd@other_bot`) or, unless addressed to this bot
    (`bot_username`), a command this bot does not know: groups have other bots."""
    match = COMMAND.fullmatch(text.strip())
    if match is None:
        return [] if incoming.is_group else None
    name, addressee, args = match["name"].lower(), match["addressee"], (match["args"] or "").strip()
    if addressee and bot_username and addressee.lower() != bot_username.lstrip("@").lower():
        return []
    command = COMMANDS.get(name)
    if command is None and incoming.is_group and not addressee:
        return []
    ctx = _context(incoming)
    with translation.override(ctx.bot_user.language):
        if command is None:
            return [
                Reply(
                    gettext("I don't know the command /%(command)s. Send /help to see the commands.")
                    % {"command": name}
                )
            ]
        if ctx.level < command.level:
            return [_refusal(ctx, command.level)]
        return [command.handler(ctx, args)]


def handle_callback(incoming: Incoming, data: str) -> Reply:
    """The answer to a button press. The level is checked again (the button may be old, the
    chat's role changed since) and data no button of ours carries gets a polite notice."""
    ctx = _context(incoming)
    with translation.override(ctx.bot_user.language):
        prefix, *fields = (data or "").split(":")
        entry = CALLBACKS.get(prefix) if len((data or "").encode()) <= CALLBACK_DATA_LIMIT else None
        if entry is None:
            return outdated_button_reply()
        handler, needed = entry
        if ctx.level < needed:
            return _refusal(ctx, needed, edit=True)
        try:
            return handler(ctx, fields)
        except Malformed:
            return outdated_button_reply()


def stray_text_reply(incoming: Incoming) -> Reply:
    """The answer to private text that is no command while no operator bridge takes it."""
    ctx = _context(incoming)
    with translation.override(ctx.bot_user.language):
        return Reply(gettext("I understand commands only. Send /help to see them."))


def help_reply(ctx: Context) -> Reply:
    """The commands this chat may use, and how to get more if it has no access."""
    lines = [gettext("Commands you can use here:")]
    lines += [f"{c.usage} — {c.summary}" for c in COMMANDS.values() if ctx.level >= c.level]
    if ctx.level == Level.ANYONE:
        lines += ["", how_to_get_access()]
    return Reply("\n".join(lines))
