"""python-telegram-bot through the outbound layer, against a fake Bot API speaking its format."""

import logging

import pytest
from prometheus_client import REGISTRY
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from integrations.outbound.breaker import Admission
from integrations.outbound.telegram import OutboundHTTPXRequest, describe_url

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
ME = {"id": 123456, "is_bot": True, "first_name": "Switchboard", "username": "switchboard_bot"}
MESSAGE = {"message_id": 7, "date": 1_800_000_000, "chat": {"id": 42, "type": "private"}, "text": "hello"}


def ok(result) -> dict:
    return {"ok": True, "result": result}


def error(code: int, description: str, **parameters) -> dict:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def api_path(method: str) -> str:
    return f"/bot{TOKEN}/{method}"


def calls(operation: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "switchboard_outbound_requests_total",
            {"integration": "telegram", "operation": operation, "outcome": outcome},
        )
        or 0.0
    )


@pytest.fixture
def make_bot(client, httpserver):
    bots = []

    def make(**request_kwargs) -> Bot:
        bot = Bot(
            TOKEN, base_url=httpserver.url_for("/bot"), request=OutboundHTTPXRequest(client=client, **request_kwargs)
        )
        bots.append(bot)
        return bot

    yield make


def test_urls_are_described_by_their_method_with_the_token_masked():
    assert describe_url(f"https://api.telegram.org/bot{TOKEN}/sendMessage") == (
        "sendMessage",
        "https://api.telegram.org/bot<token>/sendMessage",
    )
    assert describe_url(f"https://api.telegram.org/file/bot{TOKEN}/photos/file_1.jpg") == (
        "file",
        "https://api.telegram.org/file/bot<token>/<file>",
    )
    assert describe_url(f"http://127.0.0.1:8081/bot{TOKEN}/getUpdates?offset=5") == (
        "getUpdates",
        "http://127.0.0.1:8081/bot<token>/getUpdates",
    )


async def test_bot_calls_go_through_the_layer_and_log_no_token_or_text(make_bot, httpserver, caplog):
    caplog.set_level(logging.INFO)
    httpserver.expect_request(api_path("getMe")).respond_with_json(ok(ME))
    httpserver.expect_request(api_path("sendMessage"), method="POST").respond_with_json(ok(MESSAGE))
    sent_before = calls("sendMessage", "ok")

    async with make_bot() as bot:
        message = await bot.send_message(chat_id=42, text="a private message text")

    assert message.message_id == 7
    assert calls("sendMessage", "ok") - sent_before == 1
    lines = [r for r in caplog.records if r.name == "integrations.outbound" and r.operation == "sendMessage"]
    assert len(lines) == 1 and "/bot<token>/sendMessage" in lines[0].url
    ours = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.name != "werkzeug")
    assert TOKEN not in ours and "private message" not in ours


async def test_a_message_is_not_sent_twice_after_a_500(make_bot, httpserver):
    httpserver.expect_request(api_path("sendMessage")).respond_with_json(
        error(500, "Internal Server Error"), status=500
    )
    bot = make_bot()

    with pytest.raises(NetworkError):
        await bot.send_message(chat_id=42, text="hello")

    assert len(httpserver.log) == 1


async def test_flood_control_waits_as_telegram_asks_then_sends(make_bot, httpserver, waits):
    httpserver.expect_ordered_request(api_path("sendMessage")).respond_with_json(
        error(429, "Too Many Requests: retry after 3", retry_after=3), status=429
    )
    httpserver.expect_ordered_request(api_path("sendMessage")).respond_with_json(ok(MESSAGE))
    bot = make_bot()

    message = await bot.send_message(chat_id=42, text="hello")

    assert message.message_id == 7
    assert waits == [3.0]


async def test_reads_are_retried_after_a_server_error(make_bot, httpserver):
    httpserver.expect_ordered_request(api_path("getMe")).respond_with_json(error(502, "Bad Gateway"), status=502)
    httpserver.expect_ordered_request(api_path("getMe")).respond_with_json(ok(ME))
    bot = make_bot()

    me = await bot.get_me()

    assert me.username == "switchboard_bot"
    assert len(httpserver.log) == 2


async def test_telegram_errors_keep_their_ptb_meaning_and_are_not_retried(make_bot, httpserver):
    httpserver.expect_request(api_path("sendMessage")).respond_with_json(
        error(400, "Bad Request: chat not found"), status=400
    )
    bot = make_bot()

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(chat_id=1, text="hello")

    assert len(httpserver.log) == 1


async def test_an_open_circuit_fails_fast_as_a_network_error(make_bot, client, httpserver, settings):
    for _ in range(settings.INTEGRATIONS_BREAKER_FAIL_MAX):
        client.breaker("telegram").record_failure(Admission(allowed=True))
    bot = make_bot()

    with pytest.raises(NetworkError, match="telegram is failing; circuit open until"):
        await bot.send_message(chat_id=42, text="hello")

    assert httpserver.log == []


async def test_a_timeout_is_ptbs_timed_out(client, silent_url):
    bot = Bot(
        TOKEN,
        base_url=silent_url.rsplit("/", 1)[0] + "/bot",
        request=OutboundHTTPXRequest(client=client, read_timeout=0.05),
    )

    with pytest.raises(TimedOut):
        await bot.send_message(chat_id=42, text="hello")
