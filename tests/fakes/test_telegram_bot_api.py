"""The fake Telegram Bot API, specified: it is only worth something if a real client cannot tell
it from Telegram, so it is driven with python-telegram-bot's own `telegram.Bot` (and with raw
httpx where the exact bytes of an error body matter). The methods; the limits and records are in
test_telegram_bot_api_limits.py."""

import json
import re
import threading
import time

import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken

from tests.fakes.helpers import HTTP, KEYBOARD, NOT_MODIFIED, call, error, text_update, update_ids, with_bot
from tests.fakes.telegram_bot_api import DEFAULT_TOKEN, FakeTelegramBotAPI


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


def test_get_updates_offset_confirms_and_forgets_earlier_updates(fake):
    for text in ("one", "two", "three"):
        fake.push_update(text_update(text))

    updates = with_bot(fake, lambda bot: bot.get_updates())
    assert [(u.update_id, u.message.text) for u in updates] == [(1, "one"), (2, "two"), (3, "three")]
    assert update_ids(call(fake, "getUpdates", offset=2)) == [2, 3]
    assert update_ids(call(fake, "getUpdates")) == [2, 3]  # update 1 is gone for good
    assert update_ids(call(fake, "getUpdates", offset=2, limit=1)) == [2]
    assert update_ids(call(fake, "getUpdates", offset=4)) == []
    assert call(fake, "getWebhookInfo").json()["result"]["pending_update_count"] == 0


def test_a_negative_offset_keeps_the_last_updates_only(fake):
    for text in ("one", "two", "three"):
        fake.push_update(text_update(text))

    assert update_ids(call(fake, "getUpdates", offset=-1)) == [3]
    assert update_ids(call(fake, "getUpdates")) == [3]


def test_push_update_numbers_updates_in_increasing_order_and_keeps_given_ids(fake):
    assert fake.push_update(text_update("a"))["update_id"] == 1
    assert fake.push_update(text_update("b", update_id=500))["update_id"] == 500
    assert fake.push_update(text_update("c"))["update_id"] == 501


def test_get_updates_returns_only_the_allowed_kinds(fake):
    fake.push_update(text_update("a"))
    fake.push_update(
        {"callback_query": {"id": "q", "from": {"id": 1, "is_bot": False, "first_name": "A"}, "chat_instance": "1"}}
    )

    assert update_ids(call(fake, "getUpdates", allowed_updates=["callback_query"])) == [2]


def test_a_long_poll_answers_as_soon_as_an_update_arrives(fake):
    threading.Timer(0.2, fake.push_update, args=[text_update("late")]).start()
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
    fake.push_update(text_update("after the reset"))
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
