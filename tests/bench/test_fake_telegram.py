"""The fault harness's fake Bot API (bench/faults/fake_telegram.py) is only a measuring
instrument if the hub's own telegram.send_message succeeds against it and every message it
accepts is in its log, once — so it is checked with the hub's client, not with a hand-made one."""

import importlib.util
import json
import threading
from pathlib import Path

import httpx
import pytest

from integrations.registry import registry
from tests.integrations.providers.fakes import TELEGRAM_TOKEN, outbound_settings  # noqa: F401  (fixture)

_PATH = Path(__file__).resolve().parents[2] / "bench" / "faults" / "fake_telegram.py"
_spec = importlib.util.spec_from_file_location("fake_telegram", _PATH)
fake_telegram = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_telegram)


@pytest.fixture
def fake(tmp_path, settings):
    log = tmp_path / "messages.jsonl"
    fake_telegram._state.update(count=0, log=log.open("a", encoding="utf-8"))
    server = fake_telegram.Server(("127.0.0.1", 0), fake_telegram.Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.INTEGRATIONS_TELEGRAM_API_URL = base_url
    yield base_url, log
    server.shutdown()
    server.server_close()
    fake_telegram._state["log"].close()


def logged(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.django_db
def test_the_hubs_send_message_succeeds_and_the_message_is_logged_once(fake, monkeypatch):
    _, log = fake
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)

    result = registry.get("telegram.send_message").execute({"chat_id": -1001234567890, "text": "fault-bench x"})

    assert result.ok, result.error
    ((entry,),) = [logged(log)]
    assert (entry["chat_id"], entry["text"], entry["token"]) == (-1001234567890, "fault-bench x", TELEGRAM_TOKEN[-4:])
    assert result.result["message_id"] == entry["n"]


@pytest.mark.parametrize("encoding", ["json", "data", "files"])
def test_every_encoding_the_bot_api_accepts_is_read(fake, encoding):
    base_url, log = fake
    fields = {"chat_id": "42", "text": "hello"}
    body = {encoding: fields} if encoding != "files" else {"files": {k: (None, v) for k, v in fields.items()}}

    answer = httpx.post(f"{base_url}/bot{TELEGRAM_TOKEN}/sendMessage", **body).json()

    assert answer["ok"] is True
    assert answer["result"]["chat"]["id"] == 42
    assert [(e["chat_id"], e["text"]) for e in logged(log)] == [(42, "hello")]


def test_a_message_without_text_is_refused_as_telegram_does_and_not_logged(fake):
    base_url, log = fake
    answer = httpx.post(f"{base_url}/bot{TELEGRAM_TOKEN}/sendMessage", json={"chat_id": 42})
    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
    assert logged(log) == []
