"""The fake Telegram Bot API, specified: it is only worth something if a real client cannot tell
it from Telegram, so it is driven with python-telegram-bot's own `telegram.Bot` (and with raw
httpx where the exact bytes of an error body matter)."""

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import httpx
import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from tests.fakes.telegram_bot_api import DEFAULT_TOKEN, FakeTelegramBotAPI, Limits, RateLimiter
from tests.fakes.telegram_bot_api.limits import max_in_window

REPO = Path(__file__).resolve().parents[2]
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
HTTP = httpx.Client(timeout=10)  # one client: a new one per request costs ~60 ms (its TLS context)
KEYBOARD = {"inline_keyboard": [[{"text": "On", "callback_data": "on"}]]}


@pytest.fixture
def fake():
    """A fake without limits: the tests of the limits make their own."""
    with FakeTelegramBotAPI(limits=Limits.off()) as server:
        yield server


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


def test_get_me_is_the_test_bot(fake):
    me = with_bot(fake, lambda bot: bot.get_me())

    assert (me.id, me.username, me.is_bot, me.first_name) == (123456, "switchboard_test_bot", True, "Switchboard")
    assert call(fake, "getMe").json() == {
        "ok": True,
        "result": {
            "id": fake.bot_id,
            "is_bot": True,
            "first_name": "Switchboard",
            "username": fake.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        },
    }
    assert (fake.token, fake.base_url.startswith("http://127.0.0.1:")) == (DEFAULT_TOKEN, True)


def test_a_wrong_token_is_401_unauthorized(fake):
    answer = call(fake, "getMe", token="999:wrong")

    assert (answer.status_code, answer.json()) == (401, error(401, "Unauthorized"))
    with pytest.raises(InvalidToken):
        with_bot(fake, lambda bot: bot.get_me(), token="999:wrong")


@pytest.mark.parametrize("path", [f"/bot{DEFAULT_TOKEN}/noSuchMethod", f"/bot{DEFAULT_TOKEN}/", "/", "/getMe"])
def test_an_unknown_method_or_path_is_404_not_found(fake, path):
    answer = HTTP.post(fake.base_url + path)

    assert (answer.status_code, answer.json()) == (404, error(404, "Not Found"))


def test_method_names_are_case_insensitive_and_get_works_like_post(fake):
    assert call(fake, "GETME").json()["ok"] is True
    answer = HTTP.get(f"{fake.base_url}/bot{fake.token}/sendmessage", params={"chat_id": 7, "text": "by GET"})

    assert answer.json()["result"]["text"] == "by GET"
    assert [c["method"] for c in fake.calls] == ["getMe", "sendMessage"]


@pytest.mark.parametrize("encoding", ["json", "form", "multipart", "query"])
def test_parameters_are_read_from_every_encoding_the_bot_api_accepts(fake, encoding):
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    fields = {"chat_id": "42", "text": "hello", "reply_markup": json.dumps(KEYBOARD)}
    answer = {
        "json": lambda: HTTP.post(url, json={**fields, "chat_id": 42, "reply_markup": KEYBOARD}),
        "form": lambda: HTTP.post(url, data=fields),
        "multipart": lambda: HTTP.post(url, files={k: (None, v) for k, v in fields.items()}),
        "query": lambda: HTTP.post(url, params=fields),
    }[encoding]()

    assert answer.json()["result"]["chat"]["id"] == 42
    assert answer.json()["result"]["reply_markup"] == KEYBOARD
    assert [(m["chat_id"], m["text"], m["reply_markup"]) for m in fake.messages] == [(42, "hello", KEYBOARD)]


# -- sendMessage -----------------------------------------------------------------------------


@pytest.mark.parametrize(("chat_id", "kind"), [(42, "private"), (-1001234567890, "supergroup"), (-4012345, "group")])
def test_send_message_answers_a_real_message_in_a_chat_of_the_right_type(fake, chat_id, kind):
    markup = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("On", callback_data="on")]])
    message = with_bot(fake, lambda bot: bot.send_message(chat_id, "hello", reply_markup=markup))

    assert (message.message_id, message.chat.id, message.chat.type, message.text) == (1, chat_id, kind, "hello")
    assert message.from_user.username == "switchboard_test_bot"
    assert message.reply_markup == markup
    assert abs(message.date.timestamp() - time.time()) < 5
    ((record,),) = [fake.messages_to(chat_id)]
    assert record == {
        "chat_id": chat_id,
        "message_id": 1,
        "text": "hello",
        "parse_mode": None,
        "reply_markup": KEYBOARD,
        "t": record["t"],
        "edited": False,
    }


def test_message_ids_increase_per_chat(fake):
    for chat_id in (1, 1, 2, 1):
        call(fake, "sendMessage", chat_id=chat_id, text="x")

    assert [(m["chat_id"], m["message_id"]) for m in fake.messages] == [(1, 1), (1, 2), (2, 1), (1, 3)]


def test_only_an_inline_keyboard_is_echoed_in_the_message_as_telegram_does(fake):
    keyboard = {"keyboard": [[{"text": "Yes"}]], "one_time_keyboard": True}
    answer = call(fake, "sendMessage", chat_id=5, text="choose", reply_markup=keyboard).json()

    assert "reply_markup" not in answer["result"]
    assert fake.messages[0]["reply_markup"] == keyboard


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "no chat"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "", "text": "no chat"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "@somechannel", "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": 42}, "Bad Request: message text is empty"),
        ({"chat_id": 42, "text": "   "}, "Bad Request: message text is empty"),
        ({"chat_id": 42, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {"chat_id": 42, "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": 42, "text": "x", "reply_markup": "[1]"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": 42, "text": "<b>bold", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            {"chat_id": 42, "text": "hi <blink>x</blink>", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 3',
        ),
        (
            {"chat_id": 42, "text": "<b>x</i>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Unexpected end tag at byte offset 4",
        ),
        (
            {"chat_id": 42, "text": "21.5 °C", "parse_mode": "MarkdownV2"},
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
    ],
)
def test_send_message_refuses_what_telegram_refuses_and_delivers_nothing(fake, params, description):
    answer = call(fake, "sendMessage", **params)

    assert (answer.status_code, answer.json()) == (400, error(400, description))
    assert fake.messages == []
    assert fake.calls[-1]["status"] == 400


def test_the_length_limit_is_on_the_text_the_user_sees(fake):
    assert call(fake, "sendMessage", chat_id=42, text="x" * 4096).status_code == 200
    html = "<b>" + "&amp;" * 4096 + "</b>"
    answer = call(fake, "sendMessage", chat_id=42, text=html, parse_mode="HTML")

    assert answer.status_code == 200
    assert answer.json()["result"]["text"] == "&" * 4096
    assert fake.messages[-1]["text"] == html  # what was sent, markup and all


def test_well_formed_markup_is_accepted(fake):
    texts = [
        ("HTML", '<b>On</b> <a href="https://example.com/x?a=1">link</a> <code>a &lt; b</code>'),
        ("MarkdownV2", r"*21\.5 °C* [site](https://example.com/a.b) `1.2`"),
    ]
    for mode, text in texts:
        assert call(fake, "sendMessage", chat_id=1, text=text, parse_mode=mode).status_code == 200, (mode, text)


# -- chats that refuse -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "status", "description", "exception"),
    [
        ("blocked", 403, "Forbidden: bot was blocked by the user", Forbidden),
        ("kicked", 403, "Forbidden: bot was kicked from the group chat", Forbidden),
        ("deactivated", 403, "Forbidden: user is deactivated", Forbidden),
        ("not_found", 400, "Bad Request: chat not found", BadRequest),
    ],
)
def test_a_chat_can_refuse_messages_as_telegram_does(fake, behaviour, status, description, exception):
    fake.chat_behaviour(-777, behaviour)

    answer = call(fake, "sendMessage", chat_id=-777, text="x")
    assert (answer.status_code, answer.json()) == (status, error(status, description))
    with pytest.raises(exception, match="(?i)" + re.escape(description.split(": ", 1)[1])):
        with_bot(fake, lambda bot: bot.send_message(-777, "x"))
    assert call(fake, "sendMessage", chat_id=-778, text="another chat").status_code == 200
    assert [m["chat_id"] for m in fake.messages] == [-778]


def test_a_group_upgraded_to_a_supergroup_answers_its_new_id(fake):
    fake.chat_behaviour(-4012345, ("migrated", -1001234567890))

    answer = call(fake, "sendMessage", chat_id=-4012345, text="x")
    assert (answer.status_code, answer.json()) == (
        400,
        error(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1001234567890),
    )
    with pytest.raises(ChatMigrated) as raised:
        with_bot(fake, lambda bot: bot.send_message(-4012345, "x"))
    assert raised.value.new_chat_id == -1001234567890


def test_a_chat_behaves_again_after_none_and_after_reset(fake):
    fake.chat_behaviour(9, "blocked")
    fake.chat_behaviour(9, None)
    assert call(fake, "sendMessage", chat_id=9, text="x").status_code == 200
    fake.chat_behaviour(9, "kicked")
    fake.reset()
    assert call(fake, "sendMessage", chat_id=9, text="x").status_code == 200
    with pytest.raises(ValueError):
        fake.chat_behaviour(9, "asleep")


# -- editMessageText -------------------------------------------------------------------------


def test_edit_message_text_answers_the_edited_message_and_records_the_delivery(fake):
    sent = call(fake, "sendMessage", chat_id=42, text="Lamp: off", reply_markup=KEYBOARD).json()["result"]

    edited = with_bot(fake, lambda bot: bot.edit_message_text("Lamp: on", chat_id=42, message_id=sent["message_id"]))

    assert (edited.message_id, edited.text, edited.reply_markup) == (sent["message_id"], "Lamp: on", None)
    assert edited.edit_date is not None
    assert [(m["message_id"], m["text"], m["edited"]) for m in fake.messages_to(42)] == [
        (1, "Lamp: off", False),
        (1, "Lamp: on", True),
    ]


def test_edit_refuses_an_unknown_message_and_an_edit_that_changes_nothing(fake):
    call(fake, "sendMessage", chat_id=42, text="same", reply_markup=KEYBOARD)

    unknown = call(fake, "editMessageText", chat_id=42, message_id=99, text="x")
    other_chat = call(fake, "editMessageText", chat_id=43, message_id=1, text="x")
    same = call(fake, "editMessageText", chat_id=42, message_id=1, text="same", reply_markup=KEYBOARD)
    no_id = call(fake, "editMessageText", chat_id=42, text="x")

    assert unknown.json() == other_chat.json() == error(400, "Bad Request: message to edit not found")
    assert (same.status_code, same.json()) == (400, error(400, NOT_MODIFIED))
    assert no_id.json() == error(400, "Bad Request: message identifier is not specified")
    # Dropping the keyboard is a change.
    assert call(fake, "editMessageText", chat_id=42, message_id=1, text="same").status_code == 200
    assert len(fake.messages) == 2


def test_edit_meets_the_chat_behaviours(fake):
    call(fake, "sendMessage", chat_id=42, text="x")
    fake.chat_behaviour(42, "blocked")

    answer = call(fake, "editMessageText", chat_id=42, message_id=1, text="y")

    assert answer.json() == error(403, "Forbidden: bot was blocked by the user")


# -- answerCallbackQuery ---------------------------------------------------------------------


def test_a_callback_query_that_was_pushed_can_be_answered_once(fake):
    user = {"id": 42, "is_bot": False, "first_name": "Ann"}
    fake.push_update({"callback_query": {"id": "cbq-1", "from": user, "chat_instance": "1", "data": "on"}})

    assert with_bot(fake, lambda bot: bot.answer_callback_query("cbq-1", text="Done", show_alert=True)) is True
    assert [(a["callback_query_id"], a["text"], a["show_alert"]) for a in fake.callback_answers] == [
        ("cbq-1", "Done", True)
    ]
    invalid = error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
    for query_id in ("cbq-1", "never-pushed", ""):
        answer = call(fake, "answerCallbackQuery", callback_query_id=query_id)
        assert (answer.status_code, answer.json()) == (400, invalid)


# -- webhooks --------------------------------------------------------------------------------


def test_set_webhook_is_recorded_and_reported_by_get_webhook_info(fake):
    assert with_bot(
        fake,
        lambda bot: bot.set_webhook(
            "https://hub.example.com/tg/hook", secret_token="s3cr3t_-X", max_connections=10, allowed_updates=["message"]
        ),
    )
    fake.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})

    info = with_bot(fake, lambda bot: bot.get_webhook_info())

    assert fake.webhook == {
        "url": "https://hub.example.com/tg/hook",
        "secret_token": "s3cr3t_-X",
        "max_connections": 10,
        "allowed_updates": ["message"],
    }
    assert (info.url, info.pending_update_count, info.max_connections) == ("https://hub.example.com/tg/hook", 1, 10)
    assert tuple(info.allowed_updates) == ("message",)
    assert info.last_error_date is None


def test_allowed_updates_may_be_a_json_array_string(fake):
    answer = call(fake, "setWebhook", url="https://h.example/x", allowed_updates='["callback_query"]')

    assert answer.json() == {"ok": True, "result": True}
    assert call(fake, "getWebhookInfo").json()["result"]["allowed_updates"] == ["callback_query"]


def test_without_a_webhook_the_url_is_empty(fake):
    assert call(fake, "getWebhookInfo").json() == {
        "ok": True,
        "result": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
    }


USE_DELETE_WEBHOOK = "use deleteWebhook to delete the webhook first"
BAD_SECRET = "Bad Request: secret token contains unallowed characters"
BAD_MAX = "Bad Request: bad webhook: max_connections must be between 1 and 100"


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "http://hub.example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
        ({"url": "https://h.example/x", "secret_token": "no spaces"}, BAD_SECRET),
        ({"url": "https://h.example/x", "secret_token": "x" * 257}, BAD_SECRET),
        ({"url": "https://h.example/x", "max_connections": 0}, BAD_MAX),
        ({"url": "https://h.example/x", "max_connections": 101}, BAD_MAX),
    ],
)
def test_set_webhook_refuses_what_telegram_refuses(fake, params, description):
    answer = call(fake, "setWebhook", **params)

    assert (answer.status_code, answer.json()) == (400, error(400, description))
    assert fake.webhook == {}


def test_a_webhook_error_shows_in_get_webhook_info(fake):
    call(fake, "setWebhook", url="https://h.example/x")
    fake.webhook_error()

    info = call(fake, "getWebhookInfo").json()["result"]

    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert abs(info["last_error_date"] - time.time()) < 5 and isinstance(info["last_error_date"], int)
    assert with_bot(fake, lambda bot: bot.get_webhook_info()).last_error_message.startswith("Wrong response")


def test_get_updates_conflicts_with_an_active_webhook_until_it_is_deleted(fake):
    call(fake, "setWebhook", url="https://h.example/x")
    fake.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "a"}})

    answer = call(fake, "getUpdates")
    assert (answer.status_code, answer.json()) == (
        409,
        error(409, "Conflict: can't use getUpdates method while webhook is active; " + USE_DELETE_WEBHOOK),
    )
    with pytest.raises(Conflict):
        with_bot(fake, lambda bot: bot.get_updates())
    assert with_bot(fake, lambda bot: bot.delete_webhook()) is True
    assert update_ids(call(fake, "getUpdates")) == [1]


@pytest.mark.parametrize("how", ["setWebhook", "deleteWebhook", "setWebhook with an empty url"])
def test_drop_pending_updates_forgets_the_queue(fake, how):
    fake.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})
    method, url = (how.split()[0], "" if "empty" in how else "https://h.example/x")

    call(fake, method, url=url, drop_pending_updates=True)

    assert call(fake, "getWebhookInfo").json()["result"]["pending_update_count"] == 0
    webhook = {"url": url, "secret_token": None, "max_connections": 40, "allowed_updates": None}
    assert fake.webhook == (webhook if method == "setWebhook" and url else {})


# -- getUpdates ------------------------------------------------------------------------------


def _text_update(text: str, **extra) -> dict:
    chat = {"id": 42, "type": "private", "first_name": "Ann"}
    return {**extra, "message": {"message_id": 1, "date": int(time.time()), "chat": chat, "text": text}}


def test_get_updates_offset_confirms_and_forgets_earlier_updates(fake):
    for text in ("one", "two", "three"):
        fake.push_update(_text_update(text))

    updates = with_bot(fake, lambda bot: bot.get_updates())
    assert [(u.update_id, u.message.text) for u in updates] == [(1, "one"), (2, "two"), (3, "three")]
    assert update_ids(call(fake, "getUpdates", offset=2)) == [2, 3]
    assert update_ids(call(fake, "getUpdates")) == [2, 3]  # update 1 is gone for good
    assert update_ids(call(fake, "getUpdates", offset=2, limit=1)) == [2]
    assert update_ids(call(fake, "getUpdates", offset=4)) == []
    assert call(fake, "getWebhookInfo").json()["result"]["pending_update_count"] == 0


def test_a_negative_offset_keeps_the_last_updates_only(fake):
    for text in ("one", "two", "three"):
        fake.push_update(_text_update(text))

    assert update_ids(call(fake, "getUpdates", offset=-1)) == [3]
    assert update_ids(call(fake, "getUpdates")) == [3]


def test_push_update_numbers_updates_in_increasing_order_and_keeps_given_ids(fake):
    assert fake.push_update(_text_update("a"))["update_id"] == 1
    assert fake.push_update(_text_update("b", update_id=500))["update_id"] == 500
    assert fake.push_update(_text_update("c"))["update_id"] == 501


def test_get_updates_returns_only_the_allowed_kinds(fake):
    fake.push_update(_text_update("a"))
    fake.push_update(
        {"callback_query": {"id": "q", "from": {"id": 1, "is_bot": False, "first_name": "A"}, "chat_instance": "1"}}
    )

    assert update_ids(call(fake, "getUpdates", allowed_updates=["callback_query"])) == [2]


def test_a_long_poll_answers_as_soon_as_an_update_arrives(fake):
    threading.Timer(0.2, fake.push_update, args=[_text_update("late")]).start()
    started = time.monotonic()

    updates = with_bot(fake, lambda bot: bot.get_updates(timeout=5))

    assert [u.message.text for u in updates] == ["late"]
    assert 0.15 < time.monotonic() - started < 2


def test_a_long_poll_with_nothing_to_say_ends_empty_after_its_timeout(fake):
    started = time.monotonic()

    assert update_ids(call(fake, "getUpdates", timeout=0.3)) == []
    assert 0.25 < time.monotonic() - started < 2


def test_a_second_get_updates_terminates_the_first_as_telegram_does(fake):
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", call(fake, "getUpdates", timeout=5)))
    first.start()
    time.sleep(0.2)

    assert update_ids(call(fake, "getUpdates", timeout=0)) == []
    first.join(3)
    assert answers["first"].json() == error(
        409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )


def test_a_reset_does_not_disturb_a_waiting_long_poll(fake):
    answers = []
    poll = threading.Thread(target=lambda: answers.append(call(fake, "getUpdates", timeout=5)))
    poll.start()
    time.sleep(0.1)
    fake.reset()
    fake.push_update(_text_update("after the reset"))
    poll.join(3)

    assert update_ids(answers[0]) == [1]


def test_stop_ends_a_waiting_long_poll():
    fake = FakeTelegramBotAPI().start()
    answers = []
    poll = threading.Thread(target=lambda: answers.append(call(fake, "getUpdates", timeout=30)))
    poll.start()
    time.sleep(0.1)
    started = time.monotonic()
    fake.stop()
    poll.join(3)

    assert time.monotonic() - started < 2
    assert update_ids(answers[0]) == []


# -- limits: the rules, on a clock the test holds --------------------------------------------


def test_per_chat_a_burst_then_the_refill_rate():
    limiter = RateLimiter(Limits(per_chat_per_second=1.0, per_chat_burst=3))

    assert [limiter.acquire(42, 100.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire(42, 100.0) == 1  # one token back in 1 s
    assert limiter.acquire(7, 100.0) == 0  # another chat has its own bucket
    assert limiter.acquire(42, 101.0) == 0
    assert limiter.acquire(42, 101.5) == 1


def test_retry_after_is_the_whole_seconds_until_the_request_would_pass():
    limiter = RateLimiter(Limits(per_chat_per_second=0.25, per_chat_burst=1))
    assert limiter.acquire(1, 0.0) == 0

    assert limiter.acquire(1, 0.5) == 4  # 3.5 s to go: ceil
    assert RateLimiter(Limits(per_chat_per_second=10, per_chat_burst=1)).acquire(1, 0.0) == 0


def test_after_a_429_the_chat_is_locked_until_retry_after_elapses():
    limiter = RateLimiter(Limits(per_chat_per_second=4.0, per_chat_burst=1))
    assert limiter.acquire(1, 0.0) == 0
    assert limiter.acquire(1, 0.1) == 1  # 0.15 s to a token, answered as 1 s

    assert limiter.acquire(1, 0.5) == 1  # the bucket has a token again, but the chat is locked
    assert limiter.acquire(1, 1.09) == 1
    assert limiter.acquire(1, 1.1) == 0


def test_groups_have_a_rolling_window_of_their_own():
    limiter = RateLimiter(Limits(per_chat_per_second=None, group_per_minute=20))
    assert all(limiter.acquire(-100, t) == 0 for t in range(20))

    assert limiter.acquire(-100, 20.0) == 40  # the first one leaves the window at 60 s
    assert all(limiter.acquire(1, 20.0 + i / 100) == 0 for i in range(25))  # private chats are not groups
    assert limiter.acquire(-100, 60.0) == 0


def test_overall_a_rolling_window_over_every_chat():
    limiter = RateLimiter(Limits(per_chat_per_second=None, overall_per_second=30))
    assert all(limiter.acquire(chat, 5.0) == 0 for chat in range(30))

    assert limiter.acquire(99, 5.5) == 1
    assert limiter.acquire(98, 6.0) == 0


def test_limits_off_never_limit():
    limiter = RateLimiter(Limits.off())

    assert {limiter.acquire(-1, 0.0) for _ in range(1000)} == {0}


def test_the_most_messages_in_any_one_second_window():
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.2, 5.0]) == 4  # 0.5 .. 1.2
    assert max_in_window([0.0, 1.0, 2.0]) == 1


# -- limits: over the wire -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter's own, in PTB 22
def test_a_message_over_the_limit_is_429_as_telegram_answers_and_not_delivered():
    fake = limited(per_chat_per_second=1.0, per_chat_burst=2)
    try:
        assert [call(fake, "sendMessage", chat_id=42, text=str(i)).status_code for i in range(2)] == [200, 200]
        answer = call(fake, "sendMessage", chat_id=42, text="too many")

        assert (answer.status_code, answer.json()) == (
            429,
            error(429, "Too Many Requests: retry after 1", retry_after=1),
        )
        assert [m["text"] for m in fake.messages] == ["0", "1"]
        assert (fake.rate_limited, fake.forced_429) == (1, 0)
        with pytest.raises(RetryAfter) as raised:
            with_bot(fake, lambda bot: bot.send_message(42, "still too many"))
        assert retry_after(raised.value) == 1
        assert call(fake, "sendMessage", chat_id=43, text="another chat").status_code == 200
    finally:
        fake.stop()


def test_the_chat_stays_locked_after_a_429_even_once_its_bucket_refilled():
    fake = limited(per_chat_per_second=4.0, per_chat_burst=1)
    try:
        call(fake, "sendMessage", chat_id=42, text="a")
        assert call(fake, "sendMessage", chat_id=42, text="b").status_code == 429
        time.sleep(0.3)  # the bucket is full again 0.25 s after "a"

        assert call(fake, "sendMessage", chat_id=42, text="c").json()["parameters"] == {"retry_after": 1}
        assert fake.rate_limited == 2
    finally:
        fake.stop()


def test_edits_count_towards_the_chat_limits():
    fake = limited(per_chat_per_second=1.0, per_chat_burst=2)
    try:
        call(fake, "sendMessage", chat_id=42, text="a")
        assert call(fake, "editMessageText", chat_id=42, message_id=1, text="b").status_code == 200
        answer = call(fake, "editMessageText", chat_id=42, message_id=1, text="c")

        assert answer.json()["error_code"] == 429
        assert [m["text"] for m in fake.messages] == ["a", "b"]
    finally:
        fake.stop()


def test_a_group_window_and_the_overall_window_are_enforced():
    fake = limited(per_chat_per_second=None, group_per_minute=2, group_window_seconds=0.5, overall_per_second=4)
    try:
        statuses = [call(fake, "sendMessage", chat_id=chat, text="x").status_code for chat in (-5, -5, -5, 1, 2, 3)]

        assert statuses == [200, 200, 429, 200, 200, 429]  # the group's third; then the fifth message overall
        assert fake.rate_limited == 2
    finally:
        fake.stop()


def test_force_429_answers_429_without_delivering_and_counts_apart():
    fake = limited()
    try:
        fake.force_429(retry_after=7, times=2, chat_id=42)
        assert call(fake, "sendMessage", chat_id=43, text="other chat").status_code == 200

        answers = [call(fake, "sendMessage", chat_id=42, text="x") for _ in range(2)]

        assert [a.json() for a in answers] == [error(429, "Too Many Requests: retry after 7", retry_after=7)] * 2
        assert call(fake, "sendMessage", chat_id=42, text="now it goes").status_code == 200
        assert [m["chat_id"] for m in fake.messages] == [43, 42]
        assert (fake.forced_429, fake.rate_limited) == (2, 0)
    finally:
        fake.stop()


def test_force_status_answers_bad_gateway_to_the_next_call_whatever_it_is(fake):
    fake.force_status(502, times=2)

    answer = call(fake, "getMe")
    assert (answer.status_code, answer.json()) == (502, error(502, "Bad Gateway"))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        with_bot(fake, lambda bot: bot.send_message(42, "x"))
    assert call(fake, "sendMessage", chat_id=42, text="x").status_code == 200
    assert [c["status"] for c in fake.calls] == [502, 502, 200]
    assert len(fake.messages) == 1


# -- records, stats, control -----------------------------------------------------------------


def test_every_call_is_recorded_with_its_parameters_and_status(fake):
    call(fake, "sendMessage", chat_id=42, text="hi")
    call(fake, "sendMessage", chat_id=42)
    call(fake, "nope", token="1:x")

    assert [(c["method"], c["params"], c["status"]) for c in fake.calls] == [
        ("sendMessage", {"chat_id": 42, "text": "hi"}, 200),
        ("sendMessage", {"chat_id": 42}, 400),
        ("nope", {}, 401),
    ]
    assert all(abs(c["t"] - time.time()) < 5 for c in fake.calls)


def test_reset_forgets_everything(fake):
    call(fake, "sendMessage", chat_id=42, text="hi")
    call(fake, "setWebhook", url="https://h.example/x")
    fake.push_update(_text_update("a"))
    fake.force_status(502)

    fake.reset()

    assert (fake.messages, fake.calls, fake.webhook, fake.rate_limited) == ([], [], {}, 0)
    assert update_ids(call(fake, "getUpdates")) == []
    assert call(fake, "sendMessage", chat_id=42, text="again").json()["result"]["message_id"] == 1


def test_wait_for_messages(fake):
    threading.Timer(0.1, call, args=[fake, "sendMessage"], kwargs={"chat_id": 1, "text": "x"}).start()

    assert fake.wait_for_messages(1, timeout=3) is True
    assert fake.wait_for_messages(2, timeout=0.1) is False


def test_stats_in_process_and_over_http():
    fake = limited(per_chat_per_second=None, overall_per_second=None)
    try:
        for chat_id in (1, 1, 1, 2):
            call(fake, "sendMessage", chat_id=chat_id, text="x")
        call(fake, "editMessageText", chat_id=2, message_id=1, text="y")
        fake.force_429()
        call(fake, "sendMessage", chat_id=2, text="z")

        stats = fake.stats()

        assert stats == {
            "messages": 5,
            "edited": 1,
            "rate_limited": 0,
            "forced_429": 1,
            "calls": {"sendMessage": 5, "editMessageText": 1},
            "per_chat": {1: 3, 2: 2},
            "max_rate_per_chat_per_s": 3,
            "max_rate_overall_per_s": 5,
        }
        over_http = HTTP.get(f"{fake.base_url}/_stats").json()
        assert over_http == {**stats, "per_chat": {"1": 3, "2": 2}}
    finally:
        fake.stop()


def test_control_endpoints_push_updates_and_reset(fake):
    pushed = HTTP.post(f"{fake.base_url}/_updates", json=_text_update("from outside")).json()
    assert pushed["result"]["update_id"] == 1
    assert update_ids(call(fake, "getUpdates")) == [1]
    assert HTTP.post(f"{fake.base_url}/_updates", content=b"[1]").status_code == 400

    assert HTTP.post(f"{fake.base_url}/_reset").json() == {"ok": True}
    assert fake.calls == []


def test_many_senders_at_once_each_get_their_own_message_id(fake):
    def send(i):
        call(fake, "sendMessage", chat_id=1, text=str(i))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(m["message_id"] for m in fake.messages) == list(range(1, 41))
    assert sorted(int(m["text"]) for m in fake.messages) == list(range(40))


def test_the_log_has_every_delivery_before_the_answer_leaves(tmp_path):
    log = tmp_path / "messages.jsonl"
    with FakeTelegramBotAPI(limits=Limits.off(), log=str(log)) as fake:
        call(fake, "sendMessage", chat_id=42, text="héllo")
        first = log.read_text(encoding="utf-8")  # read at once: it is in already
        call(fake, "sendMessage", chat_id=42)  # refused: not logged

    (entry,) = [json.loads(line) for line in first.splitlines()]
    assert (entry["chat_id"], entry["message_id"], entry["text"], entry["edited"]) == (42, 1, "héllo", False)
    assert log.read_text(encoding="utf-8") == first


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_cli_runs_the_fake_as_a_separate_process(tmp_path):
    port, log = _free_port(), tmp_path / "messages.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.telegram_bot_api",
            "--port",
            str(port),
            "--token",
            "42:T",
            "--log",
            str(log),
        ]
        + ["--per-chat-burst", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == f"fake Telegram Bot API on http://127.0.0.1:{port}"
        base = f"http://127.0.0.1:{port}"
        sent = [HTTP.post(f"{base}/bot42:T/sendMessage", data={"chat_id": 1, "text": "x"}) for _ in range(2)]

        assert [answer.status_code for answer in sent] == [200, 429]
        stats = HTTP.get(f"{base}/_stats").json()
        assert (stats["messages"], stats["rate_limited"], stats["per_chat"]) == (1, 1, {"1": 1})
        assert [json.loads(line)["text"] for line in log.read_text().splitlines()] == ["x"]
    finally:
        process.terminate()
        process.wait(5)
    assert process.returncode == 0
