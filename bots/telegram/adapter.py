"""The commands' replies as Bot API calls: a `Reply` becomes a sendMessage (split over 4,096
characters, its buttons an inline keyboard on the last part), or an editMessageText of the
message whose button was pressed; a button press is always answered (answerCallbackQuery), so
the user's client stops its spinner. Plain text only: nothing a user typed can break formatting."""

import dataclasses

from bots.commands.replies import Reply
from bots.telegram import api
from bots.telegram.api import TelegramCallFailed


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """What to send back for one update."""

    chat_id: str
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
    for reply in outgoing.replies:
        if not reply.text:
            continue
        if reply.edit and outgoing.message_id is not None and len(reply.text) <= api.TEXT_LIMIT:
            api.edit_message_text(outgoing.chat_id, outgoing.message_id, reply.text, buttons=_buttons(reply))
            continue
        parts = api.split_text(reply.text)
        for number, part in enumerate(parts, start=1):
            api.send_message(outgoing.chat_id, part, buttons=_buttons(reply) if number == len(parts) else None)
