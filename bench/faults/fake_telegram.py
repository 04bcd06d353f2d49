"""A local stand-in for the Telegram Bot API that writes down every message it is sent (stdlib only).

    python bench/faults/fake_telegram.py --port 8301 --log messages.jsonl

`POST /bot<token>/sendMessage`, with the fields as JSON, form-urlencoded (python-telegram-bot's
way) or multipart, answers as Telegram does: `{"ok": true, "result": <Message>}`; a request
without `chat_id` or `text` gets Telegram's 400 `{"ok": false, "error_code": 400, ...}`. Every
message received is one line of the log, flushed at once, before the answer leaves:
`{"t": <unix time>, "n": <message id>, "token": "<last 4 characters>", "chat_id": ..., "text": ...}`.
So a message that reached "Telegram" is in the log even when the worker that sent it dies
before it reads the answer: that is what makes a second send of it visible as a duplicate.

`GET /_count` answers `{"messages": N}`. Only ever bound to 127.0.0.1.
"""

import argparse
import email.parser
import email.policy
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_lock = threading.Lock()
_state = {"count": 0, "log": None}


def _fields(content_type: str, body: bytes) -> dict:
    """The request's parameters, whichever of the Bot API's three encodings it uses."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        value = json.loads(body or b"{}")
        return value if isinstance(value, dict) else {}
    if kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
            if part.get_param("name", header="content-disposition")
        }
    return {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def _record(token: str, chat_id, text: str) -> dict:
    with _lock:
        _state["count"] += 1
        n = _state["count"]
        entry = {"t": time.time(), "n": n, "token": token[-4:], "chat_id": chat_id, "text": text}
        log = _state["log"]
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.flush()
    return entry


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTelegram/1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the stdlib's name
        if urlsplit(self.path).path == "/_count":
            with _lock:
                return self._send(200, {"messages": _state["count"]})
        return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _PATH.match(urlsplit(self.path).path)
        if not match:
            return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if match["method"] != "sendMessage":
            return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
        try:
            fields = _fields(self.headers.get("Content-Type", ""), body)
        except (ValueError, UnicodeDecodeError):
            fields = {}
        chat_id, text = fields.get("chat_id"), fields.get("text")
        if chat_id in (None, "") or not text:
            return self._send(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
            )
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            pass
        entry = _record(match["token"], chat_id, text)
        message = {
            "message_id": entry["n"],
            "from": {"id": 7000000001, "is_bot": True, "first_name": "Switchboard", "username": "switchboard_hub_bot"},
            "chat": {"id": chat_id, "title": "Faults", "type": "supergroup"},
            "date": int(entry["t"]),
            "text": text,
        }
        return self._send(200, {"ok": True, "result": message})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="where every message received is appended (JSON lines)")
    args = parser.parse_args()
    _state["log"] = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"fake Telegram on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        _state["log"].close()


if __name__ == "__main__":
    main()
