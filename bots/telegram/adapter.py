"""The commands' replies as Bot API calls: a `Reply` becomes a sendMessage (split over 4,096
characters, its buttons an inline keyboard on the last part), or an editMessageText of the
message whose button was pressed; a button press is always answered (answerCallbackQuery), so
the user's client stops its spinner. Plain text only: nothing a user typed can break formatting.

Replies count against Telegram's limits like notifications: each takes a slot of the shared
limiter (`bots.telegram.ratelimit`). A person waiting for an answer is worth a short wait, not a
long one: past `REPLY_WAIT_MAX_SECONDS` (a group whose minute is used up by a storm's digests)
the reply goes out anyway and a 429 is recorded on the update, setting the cooldown for others."""

import dataclasses

from bots.commands.replies import Reply
from bots.telegram import api, ratelimit
from bots.telegram.api import TelegramCallFailed

REPLY_WAIT_MAX_SECONDS = 3.0


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """What to send back for one update."""

    chat_id: str
    is_group: bool
    replies: list[Reply]
    callback_query_id: str | None = None  # the button press to answer
    message_id: int | None = None  # the message the button was on


def _buttons(reply: Reply) -> list[list[tuple[str, str]]]:
    return [[(button.label, button.data) for button in row] for row in reply.buttons]


def outgoing_send(outgoing: Outgoing) -> None:
    if outgoing.callback_query_id is not None:
        notice = next((reply.notice for reply in outgoing.replies if reply.notice), None)
        try:
            api.answer_callback_query(outgoing.callback_query_id, notice)
        except TelegramCallFailed:
            pass  # an old press (Telegram gives 15 s): the reply itself still matters
    limiter = ratelimit.limiter_get()

    def take_slot() -> None:
        # Past the short wait the reply goes out anyway: a person is waiting for it.
        ratelimit.slot_wait(limiter, outgoing.chat_id, is_group=outgoing.is_group, within=REPLY_WAIT_MAX_SECONDS)

    try:
        for reply in outgoing.replies:
            if not reply.text:
                continue
            if reply.edit and outgoing.message_id is not None and len(reply.text) <= api.TEXT_LIMIT:
                take_slot()
                api.edit_message_text(outgoing.chat_id, outgoing.message_id, reply.text, buttons=_buttons(reply))
                continue
            parts = api.split_text(reply.text)
            for number, part in enumerate(parts, start=1):
                take_slot()
                api.send_message(outgoing.chat_id, part, buttons=_buttons(reply) if number == len(parts) else None)
    except api.RateLimited as exc:
        limiter.cooldown_set(outgoing.chat_id, seconds=exc.retry_after)
        raise
