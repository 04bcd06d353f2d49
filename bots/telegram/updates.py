"""Handling received Telegram updates, in the worker: each update once, through the
platform-neutral commands (`bots.commands`), the replies sent by `bots.telegram.adapter`.

`ReceivedUpdate.update_id` is unique: the row is written in the transaction that runs the
command, so an update whose worker died before the commit is handled again by the next drain,
and one that was committed is never handled twice (an inbox entry read twice, a redelivery
older than the inbox's two-day memory). Replies leave after the commit: a reply is never sent
for a change that was rolled back. No message text is stored anywhere.
"""

import logging

from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from bots import selectors, services
from bots.commands import dispatch
from bots.commands.incoming import Incoming
from bots.models import BotUser, ReceivedUpdate
from bots.telegram import adapter
from bots.telegram.api import TelegramCallFailed
from bots.telegram.inbox import inbox_get
from integrations.secrets.settings_store import setting_get

logger = logging.getLogger(__name__)

DRAIN_BATCH = 100
KINDS = ("message", "callback_query", "my_chat_member", "edited_message", "channel_post", "chat_member")
# What the bot asks Telegram for (setWebhook / getUpdates): the rest it would only ignore.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


class MalformedUpdate(Exception):
    pass


def updates_drain() -> int:
    """Handle every update waiting in the inbox; how many entries were read."""
    box = inbox_get()
    if box is None:
        return 0
    box.drain_unscheduled()  # from now on a push schedules the next drain
    read = 0
    while entries := box.claim(count=DRAIN_BATCH):
        done = []
        for entry in entries:
            if entry.record is not None and not entry.duplicate:
                try:
                    update_handle(entry.record.get("update") or {})
                except (OperationalError, InterfaceError):
                    # The database is away: what is not acknowledged waits for the next drain.
                    box.ack(done)
                    raise
                except Exception:
                    # A bug this update triggers: set it aside rather than retry it forever.
                    box.dead_letter(entry)
            done.append(entry.entry_id)
        box.ack(done)
        read += len(entries)
    return read


def update_kind(update: dict) -> str:
    return next((kind for kind in KINDS if kind in update), "other")


def update_handle(update: dict) -> bool:
    """Handle one update unless it was handled before; False for a repeat."""
    update_id, kind = update.get("update_id"), update_kind(update)
    outgoing: adapter.Outgoing | None = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ReceivedUpdate.objects.create(update_id=update_id, kind=kind)
        except IntegrityError:
            return False
        try:
            outgoing = _commands_run(update, kind)
        except MalformedUpdate as exc:
            record.error = f"malformed update: {exc}"[:500]
            record.save(update_fields=["error"])
            logger.warning("telegram update malformed", extra={"update_id": update_id, "kind": kind})
    if outgoing is not None:
        try:
            adapter.outgoing_send(outgoing)
        except TelegramCallFailed as exc:
            ReceivedUpdate.objects.filter(update_id=update_id).update(error=f"reply not sent: {exc.detail}"[:500])
            logger.warning("telegram reply not sent", extra={"update_id": update_id, "error": exc.__class__.__name__})
    return True


def _incoming(chat: dict, sender: dict | None) -> Incoming:
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
        raise MalformedUpdate("no chat")
    sender = sender if isinstance(sender, dict) else {}
    chat_type = chat.get("type") or "private"
    if chat_type == "private":
        display = " ".join(filter(None, [chat.get("first_name"), chat.get("last_name")]))
    else:
        display = chat.get("title") or ""
    return Incoming(
        platform=BotUser.Platform.TELEGRAM,
        chat_id=str(chat["id"]),
        chat_type=str(chat_type),
        username=str(chat.get("username") or ""),
        display_name=str(display)[:200],
        language_code=str(sender.get("language_code") or ""),
        sender_username=str(sender.get("username") or ""),
        sender_name=" ".join(filter(None, [sender.get("first_name"), sender.get("last_name")]))[:200],
    )


def _known_bot_user(incoming: Incoming) -> BotUser | None:
    return selectors.bot_user_of_chat(platform=incoming.platform, chat_id=incoming.chat_id)


def _commands_run(update: dict, kind: str) -> "adapter.Outgoing | None":
    if kind == "message":
        message = update["message"]
        if not isinstance(message, dict):
            raise MalformedUpdate("message is no object")
        incoming = _incoming(message.get("chat"), message.get("from"))
        moved_to = message.get("migrate_to_chat_id")
        if isinstance(moved_to, int):
            # The group became a supergroup: from now on it is this chat.
            bot_user = _known_bot_user(incoming)
            if bot_user is not None:
                services.bot_user_move_chat(bot_user=bot_user, new_chat_id=str(moved_to))
            return None
        text = message.get("text")
        if not isinstance(text, str):
            return None  # photos, stickers, members joining: nothing for the commands
        replies = dispatch.handle_text(incoming, text, bot_username=setting_get("TELEGRAM_BOT_USERNAME", None) or "")
        if replies is None:
            # Private text that is no command: the Webim operator bridge's, once there is one
            # (the next issue hooks in here); until then the user is told what the bot does.
            replies = [dispatch.stray_text_reply(incoming)]
        return adapter.Outgoing(chat_id=incoming.chat_id, is_group=incoming.is_group, replies=replies)
    if kind == "callback_query":
        query = update["callback_query"]
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            raise MalformedUpdate("callback_query without id")
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        incoming = _incoming(message.get("chat"), query.get("from"))
        data = query.get("data") if isinstance(query.get("data"), str) else ""
        reply = dispatch.handle_callback(incoming, data)
        return adapter.Outgoing(
            chat_id=incoming.chat_id,
            is_group=incoming.is_group,
            replies=[reply],
            callback_query_id=query["id"],
            message_id=message.get("message_id") if isinstance(message.get("message_id"), int) else None,
        )
    if kind == "my_chat_member":
        member = update["my_chat_member"]
        if not isinstance(member, dict):
            raise MalformedUpdate("my_chat_member is no object")
        incoming = _incoming(member.get("chat"), member.get("from"))
        status = (member.get("new_chat_member") or {}).get("status")
        bot_user = _known_bot_user(incoming)
        if status in ("kicked", "left") and bot_user is not None:
            # Blocked in a private chat, removed from a group: nothing more is sent there.
            services.bot_user_deactivate(bot_user=bot_user, reason=f"The bot was {status} ({incoming.chat_type}).")
        return None
    return None  # edited messages, channel posts, …: nothing to do
