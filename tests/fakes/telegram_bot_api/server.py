"""FakeTelegramBotAPI: the state, the Bot API methods and the HTTP server around them."""

import json
import re
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .limits import Limits, RateLimiter, max_in_window
from .wire import (
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    as_bool,
    as_int,
    as_json,
    as_text,
    bad_request,
    fields,
    server_error,
    visible_text,
)

DEFAULT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
MAX_TEXT = 4096
MAX_POLL_SECONDS = 50.0
BEHAVIOURS = {
    "blocked": ApiError(403, "Forbidden: bot was blocked by the user"),
    "kicked": ApiError(403, "Forbidden: bot was kicked from the group chat"),
    "deactivated": ApiError(403, "Forbidden: user is deactivated"),
    "not_found": bad_request("chat not found"),
}
_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]*)$")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_CONFLICT = ApiError(
    409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = ApiError(
    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_BAD_QUERY = bad_request("query is too old and response timeout expired or query ID is invalid")
# Bot API method (lower case, as Telegram matches them) -> (its name, the FakeTelegramBotAPI method).
_METHODS = {
    name.lower(): (name, f"_api_{name}")
    for name in (
        "getMe",
        "setWebhook",
        "getWebhookInfo",
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
    )
}


def _too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _chat(chat_id: int) -> dict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test", "last_name": f"User {chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Test {kind} {chat_id}"}


def _update_type(update: dict) -> str | None:
    return next((key for key in update if key != "update_id"), None)


class FakeTelegramBotAPI:
    """A Bot API server on `host:port` (port 0: any free one) for one bot, `token`."""

    bot_username = "switchboard_test_bot"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        log: str | None = None,
    ):
        self.token, self.host, self.port = token, host, port
        self.bot_id = as_int(token.split(":", 1)[0], 0)
        self.limits = limits if limits is not None else Limits()
        self._log_path, self._log = log, None
        self._lock = threading.Condition()  # the one lock: every record and state below
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._poll = 0  # which getUpdates is the current one; a reset keeps counting, or a waiting poll would 409
        self.reset()

    # -- life -------------------------------------------------------------------------------

    def start(self) -> "FakeTelegramBotAPI":
        if self._log_path and self._log is None:
            self._log = open(self._log_path, "a", encoding="utf-8")  # noqa: SIM115 - for the server's life
        self._stopped = False
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopped = True  # ends the long polls
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "FakeTelegramBotAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2] if self._server else (self.host, self.port)
        return f"http://{host}:{port}"

    @property
    def bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Switchboard", "username": self.bot_username}

    # -- what the tests read and steer ------------------------------------------------------

    def reset(self) -> None:
        """Forget every record, chat, update, webhook and behaviour (not the token or limits)."""
        with self._lock:
            self.messages: list[dict] = []
            self.calls: list[dict] = []
            self.callback_answers: list[dict] = []
            self.rate_limited = 0
            self.forced_429 = 0
            self.webhook: dict = {}
            self._limiter = RateLimiter(self.limits)
            self._chats: dict[int, dict] = {}
            self._behaviours: dict[int, object] = {}
            self._forced_429: list[dict] = []
            self._forced_status: list[int] = []
            self._webhook_error: tuple[int, str] | None = None
            self._updates: list[dict] = []
            self._last_update_id = 0
            self._allowed_updates: list | None = None
            self._callback_queries: set[str] = set()
            self._lock.notify_all()

    def messages_to(self, chat_id) -> list[dict]:
        chat_id = as_int(chat_id, chat_id)
        with self._lock:
            return [m for m in self.messages if m["chat_id"] == chat_id]

    def push_update(self, update: dict) -> dict:
        """Queue an update for getUpdates; an `update_id` is given when it has none."""
        if not isinstance(update, dict):
            raise TypeError("an update is a JSON object")
        with self._lock:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._last_update_id + 1
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))
            query = update.get("callback_query")
            if isinstance(query, dict) and query.get("id"):
                self._callback_queries.add(str(query["id"]))
            self._updates.append(update)
            self._lock.notify_all()
            return update

    def chat_behaviour(self, chat_id: int, behaviour) -> None:
        """How the chat answers sendMessage/editMessageText from now on: "blocked", "kicked",
        "deactivated", "not_found", ("migrated", new_chat_id), or None to behave again."""
        migrated = isinstance(behaviour, (tuple, list)) and len(behaviour) == 2 and behaviour[0] == "migrated"
        if behaviour is not None and behaviour not in BEHAVIOURS and not migrated:
            raise ValueError(f"unknown chat behaviour: {behaviour!r}")
        with self._lock:
            if behaviour is None:
                self._behaviours.pop(int(chat_id), None)
            else:
                self._behaviours[int(chat_id)] = tuple(behaviour) if migrated else behaviour

    def force_429(self, retry_after: int = 3, times: int = 1, chat_id=None) -> None:
        """The next `times` sendMessage/editMessageText (to `chat_id`, or any) answer 429 and
        deliver nothing. Counted in `forced_429`, not `rate_limited`; no cooldown follows."""
        with self._lock:
            self._forced_429.append({"retry_after": int(retry_after), "times": int(times), "chat_id": chat_id})

    def force_status(self, status: int = 502, times: int = 1) -> None:
        """The next `times` Bot API calls, whatever they are, answer this 5xx."""
        if not 500 <= status <= 599:
            raise ValueError("force_status is for 5xx answers")
        with self._lock:
            self._forced_status.extend([status] * times)

    def webhook_error(self, message: str | None = "Wrong response from the webhook: 500 Internal Server Error") -> None:
        """What getWebhookInfo reports as the last delivery error (None: no error)."""
        with self._lock:
            self._webhook_error = None if message is None else (int(time.time()), message)

    def wait_for_messages(self, n: int, timeout: float = 10) -> bool:
        """Whether `messages` holds at least n deliveries within `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.messages) >= n, timeout)

    def stats(self) -> dict:
        with self._lock:
            by_chat: dict = defaultdict(list)
            for message in self.messages:
                by_chat[message["chat_id"]].append(message["t"])
            return {
                "messages": len(self.messages),
                "edited": sum(1 for m in self.messages if m["edited"]),
                "rate_limited": self.rate_limited,
                "forced_429": self.forced_429,
                "calls": dict(Counter(call["method"] for call in self.calls)),
                "per_chat": {chat: len(times) for chat, times in by_chat.items()},
                "max_rate_per_chat_per_s": max((max_in_window(sorted(t)) for t in by_chat.values()), default=0),
                "max_rate_overall_per_s": max_in_window(sorted(m["t"] for m in self.messages)),
            }

    # -- a request --------------------------------------------------------------------------

    def _request(self, path: str, query: str, content_type: str, body: bytes) -> tuple[int, dict]:
        match = _PATH.match(path)
        name, params = (match["method"] if match else path), {}
        with self._lock:
            try:
                params = fields(content_type, body, query)
                if self._forced_status:
                    raise server_error(self._forced_status.pop(0))
                if not match:
                    raise NOT_FOUND
                if match["token"] != self.token:
                    raise UNAUTHORIZED
                if name.lower() not in _METHODS:
                    raise NOT_FOUND
                name, attribute = _METHODS[name.lower()]
                status, answer = 200, {"ok": True, "result": getattr(self, attribute)(params)}
            except ApiError as error:
                status, answer = error.code, error.payload()
            self.calls.append({"method": name, "params": params, "status": status, "t": time.time()})
        return status, answer

    def _control(self, verb: str, path: str, body: bytes) -> tuple[int, dict]:
        if (verb, path) == ("GET", "/_stats"):
            return 200, self.stats()
        if (verb, path) == ("POST", "/_reset"):
            self.reset()
            return 200, {"ok": True}
        if (verb, path) == ("POST", "/_updates"):
            try:
                return 200, {"ok": True, "result": self.push_update(json.loads(body or b"null"))}
            except (ValueError, TypeError) as error:
                return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
        return NOT_FOUND.code, NOT_FOUND.payload()

    # -- shared by the sending methods (called under the lock) ------------------------------

    def _chat_id(self, params: dict) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = as_int(raw)  # "@channelusername": no such chat here
        if not chat_id:
            raise bad_request("chat not found")
        behaviour = self._behaviours.get(chat_id)
        if isinstance(behaviour, tuple):
            raise _migrated(behaviour[1])
        if behaviour is not None:
            raise BEHAVIOURS[behaviour]
        return chat_id

    @staticmethod
    def _text(params: dict) -> tuple[str, str]:
        text = as_text(params.get("text"))
        if not text.strip():
            raise bad_request("message text is empty")
        visible = visible_text(text, params.get("parse_mode"))
        if not visible.strip():
            raise bad_request("message text is empty")
        if len(visible) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, visible

    @staticmethod
    def _markup(params: dict) -> dict | None:
        raw = params.get("reply_markup")
        if raw is None or raw == "":
            return None
        try:
            markup = as_json(raw)
        except ValueError:
            markup = None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    def _admit(self, chat_id: int) -> None:
        """429 unless a message to this chat may go now; otherwise it is counted."""
        for forced in self._forced_429:
            if forced["chat_id"] is None or as_int(forced["chat_id"], forced["chat_id"]) == chat_id:
                forced["times"] -= 1
                if forced["times"] <= 0:
                    self._forced_429.remove(forced)
                self.forced_429 += 1
                raise _too_many(forced["retry_after"])
        retry_after = self._limiter.acquire(chat_id, time.monotonic())
        if retry_after:
            self.rate_limited += 1
            raise _too_many(retry_after)

    def _deliver(self, state: dict, edited: bool) -> dict:
        record = {
            "chat_id": state["chat"]["id"],
            "message_id": state["message_id"],
            "text": state["raw"],
            "parse_mode": state["parse_mode"],
            "reply_markup": state["markup"],
            "t": time.time(),
            "edited": edited,
        }
        self.messages.append(record)
        if self._log is not None:  # in the log before the answer leaves
            self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._log.flush()
        self._lock.notify_all()
        message = {
            "message_id": state["message_id"],
            "from": self.bot_user,
            "chat": state["chat"],
            "date": state["date"],
            "text": state["text"],
        }
        if state.get("edit_date"):
            message["edit_date"] = state["edit_date"]
        if state["markup"] and "inline_keyboard" in state["markup"]:  # only inline keyboards show
            message["reply_markup"] = state["markup"]
        return message

    # -- the Bot API methods (called under the lock) ----------------------------------------

    def _api_getMe(self, params: dict) -> dict:  # noqa: N802 - the Bot API's names
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_sendMessage(self, params: dict) -> dict:  # noqa: N802
        chat_id = self._chat_id(params)
        raw, text = self._text(params)
        markup = self._markup(params)
        self._admit(chat_id)
        chat = self._chats.setdefault(chat_id, {"last_id": 0, "messages": {}})
        chat["last_id"] += 1
        state = {
            "message_id": chat["last_id"],
            "chat": _chat(chat_id),
            "date": int(time.time()),
            "raw": raw,
            "text": text,
            "parse_mode": params.get("parse_mode"),
            "markup": markup,
        }
        chat["messages"][state["message_id"]] = state
        return self._deliver(state, edited=False)

    def _api_editMessageText(self, params: dict) -> dict:  # noqa: N802
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")  # inline messages are not modelled
        chat_id = self._chat_id(params)
        message_id = as_int(params.get("message_id"))
        if message_id is None:
            raise bad_request("message identifier is not specified")
        raw, text = self._text(params)
        markup = self._markup(params)
        state = self._chats.get(chat_id, {"messages": {}})["messages"].get(message_id)
        if state is None:
            raise bad_request("message to edit not found")
        if (state["text"], state["markup"]) == (text, markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        self._admit(chat_id)
        parse_mode = params.get("parse_mode")
        state.update(raw=raw, text=text, parse_mode=parse_mode, markup=markup, edit_date=int(time.time()))
        return self._deliver(state, edited=True)

    def _api_answerCallbackQuery(self, params: dict) -> bool:  # noqa: N802
        query_id = as_text(params.get("callback_query_id"))
        if query_id not in self._callback_queries:  # unknown, empty, or answered already
            raise _BAD_QUERY
        self._callback_queries.discard(query_id)
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": params.get("text"),
                "show_alert": as_bool(params.get("show_alert")),
                "t": time.time(),
            }
        )
        return True

    def _api_setWebhook(self, params: dict) -> bool:  # noqa: N802
        url = as_text(params.get("url")).strip()
        if not url:
            return self._api_deleteWebhook(params)
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = as_text(params.get("secret_token"))
        if secret and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = as_int(params.get("max_connections"), 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = self._allowed(params)
        if as_bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret or None,
            "max_connections": max_connections,
            "allowed_updates": allowed if allowed is not None else self._allowed_updates,
        }
        self._allowed_updates = self.webhook["allowed_updates"]
        self._lock.notify_all()  # a long poll waiting now ends with 409
        return True

    def _api_deleteWebhook(self, params: dict) -> bool:  # noqa: N802
        if as_bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, params: dict) -> dict:  # noqa: N802
        info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False}
        info["pending_update_count"] = len(self._updates)
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _api_getUpdates(self, params: dict) -> list:  # noqa: N802
        if self.webhook:
            raise _WEBHOOK_CONFLICT
        offset = as_int(params.get("offset"), 0)
        limit = min(max(as_int(params.get("limit"), 100), 1), 100)
        try:
            timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL_SECONDS)
        except (TypeError, ValueError):
            raise bad_request("invalid timeout specified")
        allowed = self._allowed(params)
        if allowed is not None:
            self._allowed_updates = allowed
        if offset > 0:  # every update before `offset` is confirmed: forgotten
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates only
            self._updates = self._updates[offset:]
        self._poll += 1
        self._lock.notify_all()  # an earlier poll still waiting ends with 409
        poll, deadline = self._poll, time.monotonic() + timeout
        while True:
            if self._allowed_updates:
                self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
            remaining = deadline - time.monotonic()
            if self._updates or self._stopped or remaining <= 0:
                return self._updates[:limit]
            self._lock.wait(remaining)
            if poll != self._poll:
                raise _POLL_CONFLICT
            if self.webhook:
                raise _WEBHOOK_CONFLICT

    @staticmethod
    def _allowed(params: dict) -> list | None:
        raw = params.get("allowed_updates")
        if raw is None or raw == "":
            return None
        try:
            allowed = as_json(raw)
        except ValueError:
            allowed = None
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates JSON array")  # not Telegram's exact words
        return [str(kind) for kind in allowed]


def _migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": int(new_chat_id)}
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    fake: FakeTelegramBotAPI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as python-telegram-bot's connection pool expects
    server_version = "FakeTelegramBotAPI/1"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection's thread ends eventually

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self._handle()

    def do_POST(self):  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if url.path.startswith("/_"):
            status, answer = fake._control(self.command, url.path, body)
        else:
            status, answer = fake._request(url.path, url.query, self.headers.get("Content-Type", ""), body)
        payload = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
