"""The admin's "Send a test message": one plain-text message to a bot user's chat, in its
language, that tells a staff user whether the chat works — and keeps the bot user in step with
what Telegram answered (a chat that is gone is deactivated, a group that moved is followed).

    message_id = test_message_send(bot_user)  # or a DomainError that says why not
"""

from django.utils import translation
from django.utils.translation import gettext
from rest_framework import status

from bots import services
from bots.models import BotUser
from bots.telegram import api
from config.errors import DomainError, TooManyRequests


class TelegramNotReachable(DomainError):
    """Telegram did not answer (or no token is set): nothing was sent, try again later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def _send(chat_id: str, text: str) -> int:
    """One sendMessage; Telegram's refusals other than a move become DomainErrors."""
    try:
        return api.send_message(chat_id, text)
    except api.RateLimited as exc:
        raise TooManyRequests(
            f"Telegram asks to wait {exc.retry_after:g} s before writing to this chat again.",
            retry_after=int(exc.retry_after + 0.999),
        ) from exc
    except api.TelegramUnavailable as exc:
        raise TelegramNotReachable(f"Telegram is not reachable: {exc.detail}") from exc
    except api.TelegramRefused as exc:
        raise DomainError(f"Telegram refused the message: {exc.detail}") from exc


def test_message_send(bot_user: BotUser) -> int:
    """Send the test message; the id of the message sent. ChatGone deactivates the bot user and
    raises DomainError; ChatMoved moves it to the new chat id and sends once more there."""
    with translation.override(bot_user.language):
        text = gettext("Test message from Switchboard ✓")
    try:
        try:
            return _send(bot_user.chat_id, text)
        except api.ChatMoved as exc:
            bot_user = services.bot_user_move_chat(bot_user=bot_user, new_chat_id=str(exc.new_chat_id))
            return _send(bot_user.chat_id, text)
    except api.ChatMoved as exc:  # moved again at once: leave it to the next try
        raise DomainError(f"The chat moved twice in a row (now {exc.new_chat_id}); try again.") from exc
    except api.ChatGone as exc:
        services.bot_user_deactivate(bot_user=bot_user, reason=exc.detail)
        raise DomainError(f"The chat is gone ({exc.detail}): the bot user is deactivated.") from exc
