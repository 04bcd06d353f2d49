"""The bots' Bot API calls, synchronous for Celery tasks and management commands.

Each call runs in `integrations.outbound.telegram.telegram_bot` (one `Bot` per event loop, its
HTTP client shut down afterwards, the outbound layer's breaker, metrics and masked token), with
the token and the Bot API URL read from the settings store at the call. A 429 is not waited out
inside the call: `RateLimited` reaches the caller, which slows every sender through the shared
limiter (`bots.telegram.ratelimit`). PTB's errors become the few outcomes a sender acts on:

- `ChatGone`: 403 (blocked, kicked, user deactivated) or 400 "chat not found": stop writing there;
- `ChatMoved`: 400 with `migrate_to_chat_id`: the group became a supergroup with a new id;
- `RateLimited`: 429, `retry_after` seconds;
- `TelegramUnavailable`: no answer, 5xx, breaker open, no token: try again later;
- `TelegramRefused`: any other 400 (a request Telegram will never accept).
"""

import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from integrations.outbound.telegram import retry_after_seconds, telegram_bot
from integrations.secrets.selectors import telegram_api_url
from integrations.secrets.settings_store import setting_get

T = TypeVar("T")
# getUpdates through do_api_request on purpose: polled updates are handled as the raw JSON the
# webhook receives, not as PTB's re-serialised objects.
warnings.filterwarnings("ignore", message="Please use 'Bot.getUpdates'", category=PTBUserWarning)
TEXT_LIMIT = 4096
CHAT_NOT_FOUND = "chat not found"


class TelegramCallFailed(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail[:500]


class ChatGone(TelegramCallFailed):
    pass


class ChatMoved(TelegramCallFailed):
    def __init__(self, detail: str, *, new_chat_id: int):
        super().__init__(detail)
        self.new_chat_id = new_chat_id


class RateLimited(TelegramCallFailed):
    def __init__(self, detail: str, *, retry_after: float):
        super().__init__(detail)
        self.retry_after = retry_after


class TelegramUnavailable(TelegramCallFailed):
    pass


class TelegramRefused(TelegramCallFailed):
    pass


def _prefixed(prefix: str, message: str) -> str:
    """Telegram's description as Telegram wrote it (PTB keeps some prefixes and drops others)."""
    return message if message.startswith(prefix) else prefix + message


def _translated(exc: TelegramError) -> TelegramCallFailed:
    message = getattr(exc, "message", str(exc))
    if isinstance(exc, RetryAfter):
        seconds = retry_after_seconds(exc)
        return RateLimited(f"Too Many Requests: retry after {seconds:g}", retry_after=seconds)
    if isinstance(exc, ChatMigrated):
        return ChatMoved("group chat was upgraded to a supergroup chat", new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return ChatGone(_prefixed("Forbidden: ", message))
    if isinstance(exc, BadRequest):
        if CHAT_NOT_FOUND in message.lower():
            return ChatGone(_prefixed("Bad Request: ", message))
        return TelegramRefused(_prefixed("Bad Request: ", message))
    # InvalidToken, NetworkError (5xx, breaker open, connection), TimedOut, unparsable answers.
    return TelegramUnavailable(f"{exc.__class__.__name__}: {message}")


def bot_token() -> str:
    token = setting_get("TELEGRAM_BOT_TOKEN", None)
    if not token:
        raise TelegramUnavailable("TELEGRAM_BOT_TOKEN is not set.")
    return token


def run(call: Callable[[Bot], Awaitable[T]]) -> T:
    """Run `call(bot)` in a Bot of its own; PTB's errors become the outcomes above."""
    token, base_url = bot_token(), telegram_api_url()  # read here: the ORM is not for the event loop

    async def in_bot() -> T:
        async with telegram_bot(
            token,
            base_url=base_url,
            timeout=settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS,
            wait_on_429=False,
        ) as bot:
            return await call(bot)

    try:
        return async_to_sync(in_bot)()
    except TelegramError as exc:
        raise _translated(exc) from exc


Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback data)


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons]
    )


def send_message(chat_id: int | str, text: str, *, buttons: Buttons | None = None) -> int:
    """Send plain text (no parse mode: nothing a user typed can break the formatting); the
    message id. Texts over 4,096 characters are the caller's to split (`split_text`)."""
    message = run(lambda bot: bot.send_message(chat_id=int(chat_id), text=text, reply_markup=keyboard(buttons)))
    return message.message_id


def edit_message_text(chat_id: int | str, message_id: int, text: str, *, buttons: Buttons | None = None) -> None:
    try:
        run(
            lambda bot: bot.edit_message_text(
                chat_id=int(chat_id), message_id=message_id, text=text, reply_markup=keyboard(buttons)
            )
        )
    except TelegramRefused as exc:
        if "message is not modified" not in exc.detail:
            raise


def answer_callback_query(callback_query_id: str, text: str | None = None) -> None:
    run(lambda bot: bot.answer_callback_query(callback_query_id=callback_query_id, text=text))


def get_updates(*, offset: int | None, timeout: int, allowed_updates: Sequence[str] | None) -> list[Any]:
    """Updates exactly as Telegram sent them (the JSON the webhook would have received)."""
    parameters: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(allowed_updates or [])}
    if offset is not None:
        parameters["offset"] = offset
    result = run(
        lambda bot: bot.do_api_request(
            "getUpdates", api_kwargs=parameters, read_timeout=timeout + settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS
        )
    )
    return result if isinstance(result, list) else []


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at line ends where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text or not parts:
        parts.append(text)
    return parts
