"""Browser fixtures: the app on a live server, and Debian's Chromium driven by Playwright.

The server runs the session's `app` (same database as every other test) in a background
thread. Chromium is the system's own (`/usr/bin/chromium`), never a browser Playwright
downloads. Each test gets a fresh browser context, so cookies and downloads do not leak.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Long enough for a PDF to render on a slow machine, short enough to fail a stuck test.
TIMEOUT_MS = 20_000


class QuietRequestHandler(WSGIRequestHandler):
    """Leaves out the one-line log of every request; errors are still logged."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def closing_bodies(app: Any) -> Any:
    """`app`, with each response's body closed once it is sent, or dropped. Werkzeug's development
    server closes it only after reading what is left of the request, which fails when the
    browser has already gone (a page closed while its icon was still being sent): the file a
    static response holds open was then left to the garbage collector, whose ResourceWarning
    failed whichever test happened to be running."""

    def served(environ: Any, start_response: Any) -> Any:
        body = app(environ, start_response)

        def sent() -> Iterator[bytes]:
            try:
                yield from body
            finally:
                if hasattr(body, "close"):
                    body.close()

        return sent()

    return served


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, closing_bodies(app), threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(live_server: str, browser: Browser, app: Flask) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts on the live server; all are closed when the test ends.

    `live_server` comes first so that the browser's connections close before the server stops;
    `app` is requested so that the tables are emptied after the test.
    """
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A desktop-sized page on the live server."""
    return new_context(viewport={"width": 1280, "height": 900}).new_page()
