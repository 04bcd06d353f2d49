"""python-telegram-bot through the outbound layer: retries, breaker, metrics and the log line.

    from telegram import Bot
    from integrations.outbound.telegram import OutboundHTTPXRequest

    bot = Bot(token, request=OutboundHTTPXRequest(), get_updates_request=OutboundHTTPXRequest())
    # or: Application.builder().token(token).request(OutboundHTTPXRequest())
    #         .get_updates_request(OutboundHTTPXRequest(read_timeout=30)).build()

Every Bot API call becomes one outbound call of integration "telegram" with the Bot API method
as operation (`sendMessage`, `getUpdates`, …). PTB keeps its own HTTP client, timeouts and error
handling: the adapter hands PTB back the final status and body, so `BadRequest`, `Forbidden`,
`RetryAfter` and friends are raised by PTB as usual. Reads (`get*`) are retried like any
idempotent call; everything else (sending, editing, deleting) only when it surely did not reach
Telegram (connection failed, or 429), so a message is never sent twice by a retry.
The bot token, which travels in the URL path, is masked in logs; bodies are never logged.

`telegram_bot(...)` is the one place that builds a `Bot`: every caller (the
`telegram.send_message` integration, the bots) runs its calls inside it, within one event loop.
"""

import contextlib
import json
import logging
import math
import re
import time
import warnings
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from integrations.outbound.calls import loggable_url
from integrations.outbound.client import OutboundClient, get_client
from integrations.outbound.errors import IntegrationTimeout, OutboundError
from integrations.outbound.retry import parse_retry_after


class _WithoutPayloads(logging.Filter):
    """PTB logs call parameters and raw answers (message texts included) at DEBUG, and a body it
    cannot parse at ERROR: keep those lines, drop their data. Installed here, beside the one
    place that builds a Bot, so every caller's calls are covered."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple("<withheld>" for _ in record.args) if isinstance(record.args, tuple) else ()
        return True


for _name in ("telegram.Bot", "telegram.request.BaseRequest"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _WithoutPayloads) for f in _logger.filters):
        _logger.addFilter(_WithoutPayloads())


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait a RetryAfter asks for, in seconds (PTB 22 warns the type becomes a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_METHOD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def describe_url(url: str) -> tuple[str, str]:
    """(operation, URL safe to log) of a Bot API URL: the method name, and the token masked."""
    safe_url = loggable_url(url)
    parts = urlsplit(safe_url)
    match = _TOKEN.search(parts.path)
    if match is None:
        tail = parts.path.rsplit("/", 1)[-1]
        return (tail if _METHOD.match(tail) else "unknown"), safe_url
    before, after = parts.path[: match.start()], parts.path[match.end() :]
    if "/file/" in before or after.count("/") > 1:
        operation, safe_path = "file", f"{before}<token>/<file>"
    else:
        method = after.lstrip("/")
        operation, safe_path = (method if _METHOD.match(method) else "unknown"), f"{before}<token>/{method}"
    return operation, urlunsplit((parts.scheme, parts.netloc, safe_path, "", ""))


def telegram_retry_after(response: httpx.Response) -> float | None:
    """Telegram's wait: the Retry-After header, or `parameters.retry_after` in the JSON body."""
    seconds = parse_retry_after(response.headers.get("retry-after"), now=time.time())
    if seconds is not None:
        return seconds
    try:
        return max(0.0, float(json.loads(response.content)["parameters"]["retry_after"]))
    except (ValueError, KeyError, TypeError):
        return None


def _retry_after_not_here(response: httpx.Response) -> float | None:
    """A 429 is not waited out inside the call: the caller gets RetryAfter at once."""
    return math.inf if response.status_code == 429 else telegram_retry_after(response)


class OutboundHTTPXRequest(HTTPXRequest):
    """`HTTPXRequest` whose requests go through the outbound layer (same constructor, plus
    `integration` for the breaker/metrics name, `client` for an `OutboundClient`, and
    `wait_on_429=False` for callers that schedule Telegram's wait themselves, as the bots'
    shared rate limiter does, instead of holding a worker for it)."""

    __slots__ = ("_integration", "_outbound", "_retry_after")

    def __init__(
        self,
        *args,
        integration: str = "telegram",
        client: OutboundClient | None = None,
        wait_on_429: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self._integration = integration
        self._outbound = client
        self._retry_after = telegram_retry_after if wait_on_429 else _retry_after_not_here

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._client.is_closed:
            raise RuntimeError("This HTTPXRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        data = request_data.json_parameters if request_data else None
        # Same defaults as HTTPXRequest: the instance's timeouts, a longer write for uploads.
        defaults = self._client.timeout
        timeout = httpx.Timeout(
            connect=defaults.connect if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            read=defaults.read if isinstance(read_timeout, DefaultValue) else read_timeout,
            write=(defaults.write if not files else self._media_write_timeout)
            if isinstance(write_timeout, DefaultValue)
            else write_timeout,
            pool=defaults.pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        operation, log_url = describe_url(url)

        async def send(http_timeout: httpx.Timeout) -> httpx.Response:
            return await self._client.request(
                method=method,
                url=url,
                headers={"User-Agent": self.USER_AGENT},
                timeout=http_timeout,
                files=files,
                data=data,
            )

        outbound = self._outbound or get_client()
        try:
            result = await outbound.asend(
                integration=self._integration,
                operation=operation,
                method=method,
                log_url=log_url,
                send=send,
                timeout=timeout,
                idempotent=operation.startswith("get") or operation == "file",
                retry_after=self._retry_after,
            )
        except IntegrationTimeout as exc:
            raise TimedOut(str(exc)) from exc
        except OutboundError as exc:
            raise NetworkError(str(exc)) from exc
        return result.status, result.content


@contextlib.asynccontextmanager
async def telegram_bot(
    token: str,
    *,
    base_url: str,
    timeout: float,
    wait_on_429: bool = True,
    client: OutboundClient | None = None,
) -> AsyncIterator[Bot]:
    """A `Bot` for the calls of one event loop, its HTTP client shut down when they are done.

    PTB's HTTP client belongs to the loop it was first used in, so a Bot is never kept across
    `asyncio.run`/`async_to_sync` calls ("Event loop is closed"). No `initialize()`: it would
    call getMe before every message, and its error message quotes the token. A long poll
    (getUpdates) passes its own `read_timeout`.
    """
    request = OutboundHTTPXRequest(
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        pool_timeout=timeout,
        client=client,
        wait_on_429=wait_on_429,
    )
    bot = Bot(token, base_url=f"{base_url.rstrip('/')}/bot", request=request, get_updates_request=request)
    try:
        yield bot
    finally:
        await request.shutdown()
