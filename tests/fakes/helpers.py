"""Helpers of the fake Bot API's tests: the fakes they start and how they call them."""

import asyncio
import time
import warnings
from pathlib import Path

import httpx
import telegram
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from tests.fakes.telegram_bot_api import FakeTelegramBotAPI, Limits

REPO = Path(__file__).resolve().parents[2]
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
HTTP = httpx.Client(timeout=10)  # one client: a new one per request costs ~60 ms (its TLS context)
KEYBOARD = {"inline_keyboard": [[{"text": "On", "callback_data": "on"}]]}


def limited(**limits) -> FakeTelegramBotAPI:
    return FakeTelegramBotAPI(limits=Limits(**limits)).start()


def with_bot(fake: FakeTelegramBotAPI, use, token: str | None = None):
    """`await use(bot)` with a real python-telegram-bot Bot pointed at the fake."""

    async def main():
        request = HTTPXRequest()
        bot = telegram.Bot(
            token or fake.token, base_url=f"{fake.base_url}/bot", request=request, get_updates_request=request
        )
        try:
            return await use(bot)
        finally:
            await request.shutdown()

    return asyncio.run(main())


def call(fake: FakeTelegramBotAPI, method: str, token: str | None = None, **params) -> httpx.Response:
    return HTTP.post(f"{fake.base_url}/bot{token or fake.token}/{method}", json=params)


def error(code: int, description: str, **parameters) -> dict:
    body = {"ok": False, "error_code": code, "description": description}
    return {**body, "parameters": parameters} if parameters else body


def retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will become a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def update_ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [u["update_id"] for u in answer.json()["result"]]


# -- the bot, the token, the paths -----------------------------------------------------------


def text_update(text: str, **extra) -> dict:
    chat = {"id": 42, "type": "private", "first_name": "Ann"}
    return {**extra, "message": {"message_id": 1, "date": int(time.time()), "chat": chat, "text": text}}
