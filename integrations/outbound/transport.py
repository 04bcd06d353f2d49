"""The I/O of outbound calls: pooled httpx clients, and one attempt of a request on them.

Everything else of a call (cache, breaker, retries, classification) is the same for sync and
async code; only what is here differs.
"""

import asyncio
import os
import threading
import weakref
from collections.abc import Awaitable, Callable

import httpx

from integrations.outbound.calls import OutboundRequest

# One attempt: given the attempt's timeout, send and return the answer (or raise httpx's error).
SendFn = Callable[[httpx.Timeout], httpx.Response]
AsyncSendFn = Callable[[httpx.Timeout], Awaitable[httpx.Response]]

_CLIENT_OPTIONS = {"follow_redirects": True, "headers": {"User-Agent": "Switchboard"}}


class HTTPClients:
    """The connection pools of one `OutboundClient`: a sync client per process, an async client
    per event loop (an httpx.AsyncClient cannot move between loops)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._client_pid: int | None = None
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def sync(self) -> httpx.Client:
        pid = os.getpid()
        if self._client is None or self._client_pid != pid:
            with self._lock:
                if self._client is None or self._client_pid != pid:
                    # A client inherited through fork shares its sockets with the parent: new one.
                    self._client = httpx.Client(**_CLIENT_OPTIONS)
                    self._client_pid = pid
        return self._client

    def for_running_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = httpx.AsyncClient(**_CLIENT_OPTIONS)
        return client


def sender(client: httpx.Client, method: str, request: OutboundRequest) -> SendFn:
    arguments = request.httpx_arguments()

    def send(timeout: httpx.Timeout) -> httpx.Response:
        return client.request(method, request.url, timeout=timeout, **arguments)

    return send


def async_sender(client: httpx.AsyncClient, method: str, request: OutboundRequest) -> AsyncSendFn:
    arguments = request.httpx_arguments()

    async def send(timeout: httpx.Timeout) -> httpx.Response:
        return await client.request(method, request.url, timeout=timeout, **arguments)

    return send
