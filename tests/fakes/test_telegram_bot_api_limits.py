"""The fake Telegram Bot API, specified: its limits (on a clock the test holds, then over the
wire), its records, stats and control endpoints, and the CLI."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from telegram.error import NetworkError, RetryAfter

from tests.fakes.helpers import HTTP, REPO, call, error, limited, retry_after, text_update, update_ids, with_bot
from tests.fakes.telegram_bot_api import FakeTelegramBotAPI, Limits, RateLimiter
from tests.fakes.telegram_bot_api.limits import max_in_window

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
    fake.push_update(text_update("a"))
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
    pushed = HTTP.post(f"{fake.base_url}/_updates", json=text_update("from outside")).json()
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
