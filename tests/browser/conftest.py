"""A real headless browser for the pages people use: Playwright's sync API driving Debian's
Chromium (installed by scripts/services.sh; Playwright's own browser download cannot run here).

Every page a test opens records its console errors, uncaught exceptions and every request it
makes; requests to anything but the live server are aborted and recorded, so no test reaches
outside this machine and a page that needs a CDN fails its test.

Playwright's sync API marks its event loop as running in the test's thread for as long as it is
started. Two consequences, both handled here: Django's ORM would refuse to run ("async context"),
so DJANGO_ALLOW_ASYNC_UNSAFE is set while the browser runs (nothing asynchronous runs in this
thread; the live server answers from its own thread); and pytest-asyncio's tests elsewhere would
find a loop already running, so the browser lives for this package only (scope="package"),
started by its first test and stopped after its last.
"""

import dataclasses
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium calls Google's hosts at every start.
# Playwright adds --headless and a fresh, empty --user-data-dir itself (and refuses a second one).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP_VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: ./scripts/services.sh installs Debian's chromium package.")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@dataclasses.dataclass
class BrowserPage:
    """A page and what happened on it."""

    page: Page
    origin: str
    console_errors: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)
    outside_requests: list[str] = dataclasses.field(default_factory=list)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.origin + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no request that left the live server."""
        assert self.console_errors == []
        assert self.outside_requests == []


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def open_page(browser: Browser, live_server, *, viewport: dict | None = None, cookies: list | None = None):
    context = browser.new_context(viewport=viewport or LAPTOP_VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    if cookies:
        context.add_cookies(cookies)
    origin = _origin(live_server.url)
    recorded = BrowserPage(page=context.new_page(), origin=origin)

    def only_the_live_server(route: Route) -> None:
        url = route.request.url
        if _origin(url) == origin:
            route.continue_()
        else:
            recorded.outside_requests.append(url)
            route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            recorded.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_websocket(url: str) -> None:
        # Routes see HTTP only; a websocket to elsewhere is recorded (the live view will open one).
        if _origin(url.replace("ws", "http", 1)) != origin:
            recorded.outside_requests.append(url)

    context.route("**/*", only_the_live_server)
    page = recorded.page
    page.on("console", on_console)
    page.on("pageerror", lambda error: recorded.console_errors.append(f"uncaught: {error}"))
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on("websocket", lambda socket: on_websocket(socket.url))
    return context, recorded


@pytest.fixture
def browser_page(browser, live_server) -> Iterator[BrowserPage]:
    """An anonymous visitor's page at laptop size (1366×768)."""
    context, recorded = open_page(browser, live_server)
    yield recorded
    context.close()


def session_cookies(user, live_server) -> list[dict]:
    """The session cookie of `user` logged in, for the browser to send to the live server."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    return [{"name": "sessionid", "value": cookie.value, "url": live_server.url}]


@pytest.fixture
def admin_page(browser, live_server, admin_user) -> Iterator[BrowserPage]:
    """A superuser's logged-in page at laptop size (1366×768)."""
    context, recorded = open_page(browser, live_server, cookies=session_cookies(admin_user, live_server))
    yield recorded
    context.close()
