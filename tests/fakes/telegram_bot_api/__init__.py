"""A local stand-in for the Telegram Bot API, for tests and benchmarks: the real wire format, the
real errors, and Telegram's flood limits enforced, so that a client that floods is caught here
rather than in production.

In a test::

    with FakeTelegramBotAPI(limits=Limits(per_chat_burst=2)) as fake:
        bot = telegram.Bot(fake.token, base_url=f"{fake.base_url}/bot")
        ...                                  # the code under test sends
        assert fake.wait_for_messages(1)
        assert fake.messages_to(42)[0]["text"] == "hello"

What it records: `messages` (every delivery: a sendMessage, or an editMessageText with
`edited: True`, in order), `calls` (every Bot API request with its status), `callback_answers`,
`rate_limited` (429s answered because a limit was exceeded) and `forced_429`. What it can be told:
`push_update` (for getUpdates), `chat_behaviour` (blocked, kicked, deactivated, not found,
migrated), `force_429`, `force_status` (a 5xx), `webhook_error`; `reset` forgets all of it.

For a benchmark, as a separate process (from the repository's root)::

    python -m tests.fakes.telegram_bot_api --port 8302 --token T --log messages.jsonl

Every delivered message is one JSON line of the log, flushed before the answer leaves, so a
message that reached "Telegram" is in the log even if its sender dies before reading the answer.
Control endpoints: `GET /_stats` (the same as `fake.stats()`: counts, and the most messages
delivered in any one-second window, per chat and overall), `POST /_updates` (an update as JSON)
and `POST /_reset`.

Methods: getMe, setWebhook, getWebhookInfo, deleteWebhook, getUpdates (long polling), sendMessage,
editMessageText, answerCallbackQuery; any other answers 404 as Telegram does for an unknown one.
Webhooks are recorded, never called. The limits are in `limits.Limits`.

Standard library only (http.server's ThreadingHTTPServer): it runs in any interpreter the
benchmarks start, adds no dependency, and real sockets mean the client under test is exercised
all the way down, its HTTP library included, unlike a mocked transport. It binds 127.0.0.1 only,
which pytest-socket allows.
"""

from .limits import Limits, RateLimiter
from .server import DEFAULT_TOKEN, FakeTelegramBotAPI

__all__ = ["DEFAULT_TOKEN", "FakeTelegramBotAPI", "Limits", "RateLimiter"]
