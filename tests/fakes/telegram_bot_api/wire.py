"""The Bot API's wire format: reading a request's parameters, Telegram's errors, parse-mode checks."""

import email.parser
import email.policy
import html
import json
import re
from http import HTTPStatus
from urllib.parse import parse_qs


class ApiError(Exception):
    """An answer `{"ok": false, "error_code": code, "description": ..., ["parameters": ...]}`."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def payload(self) -> dict:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def server_error(status: int) -> ApiError:
    return ApiError(status, HTTPStatus(status).phrase)


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


def fields(content_type: str, body: bytes, query: str = "") -> dict:
    """The request's parameters, whichever of the Bot API's encodings it uses: query string,
    JSON body, form-urlencoded (python-telegram-bot without files) or multipart (with files).
    The body wins over the query string."""
    params = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON request body")
        if not isinstance(value, dict):
            raise bad_request("JSON request body must be an object")
        params.update(value)
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                params[name] = part.get_content()
    else:
        params.update({k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
    return params


# Form and multipart encodings carry every value as a string, JSON-encoded unless it is one.


def as_int(value, default=None):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def as_json(value):
    """A JSON-typed parameter (a list, an object) sent either as itself or as a JSON string."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# Parse modes: a simple check that catches what Telegram refuses most often.

_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)?((?:\s[^<>]*)?)>")
_MARKDOWN_V2_ALWAYS = set("#+-={}.!")  # reserved characters that never start an entity


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def visible_text(text: str, parse_mode) -> str:
    """The text as the user sees it (Telegram's length limit is on this), or ApiError 400 when
    the markup is not what Telegram accepts."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _check_html(text)
    if mode == "markdownv2":
        _check_markdown_v2(text)
    return text


def _check_html(text: str) -> str:
    stack: list[tuple[str, int]] = []
    plain, i = [], 0
    while i < len(text):
        if text[i] != "<":
            plain.append(text[i])
            i += 1
            continue
        match = _TAG.match(text, i)
        name = (match[2] or "").lower() if match else ""
        if not match or not name:
            tag = text[i + 1 : i + 20].split(">", 1)[0].split(" ", 1)[0]
            raise _entities(f'Unsupported start tag "{tag}" at byte offset {_offset(text, i)}')
        if name not in _HTML_TAGS:
            kind = "end" if match[1] else "start"
            raise _entities(f'Unsupported {kind} tag "{name}" at byte offset {_offset(text, i)}')
        if match[1]:
            if not stack or stack[-1][0] != name:
                raise _entities(f"Unexpected end tag at byte offset {_offset(text, i)}")
            stack.pop()
        else:
            stack.append((name, i))
        i = match.end()
    if stack:
        name, _ = stack[-1]
        raise _entities(f'Can\'t find end tag corresponding to start tag "{name}"')
    return html.unescape("".join(plain))


def _check_markdown_v2(text: str) -> None:
    in_code, i = False, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "`":
            in_code = not in_code
        elif not in_code and text.startswith("](", i):  # a link's URL: only ")" and "\\" need escaping
            i = _link_end(text, i + 2)
            continue
        elif not in_code and char in _MARKDOWN_V2_ALWAYS:
            raise _entities(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        i += 1
    if in_code:
        raise _entities(f"Can't find end of Code entity at byte offset {_offset(text, text.rfind('`'))}")


def _link_end(text: str, i: int) -> int:
    while i < len(text) and text[i] != ")":
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _entities(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")
