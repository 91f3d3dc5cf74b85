"""How gunicorn serves Planner: the worker the app runs in, and the stream server's front door.

The worker (gunicorn.conf.py): gunicorn's threaded worker, with one change, so that no single
client can stall the whole worker.

gunicorn 27's gthread worker closes a connection that is not kept alive "gracefully"
(RFC 9112, section 9.6): it half-closes the socket, then waits up to 2 s for the client to
close its side. It does that waiting on the worker's main thread, the one loop that accepts
every connection and hands every request to a thread. So each client that is slow to close
(a phone on poor Wi-Fi, a workshop stream ending while its page is busy, or a guest who simply
never closes) stops the worker for up to 2 s: no new connection is accepted and no kept-alive
request is answered meanwhile. In a room of 400, a few hundred streams end every 45 s, and the
stalls added up to 40 s waits with the cores idle (docs/performance.md, "A room of 1,000").

Here the same graceful close is made in the request's own thread, right after its response,
where waiting on one client holds only that thread. The main loop's own close then finds the
socket already closed and returns at once.

The stream server (gunicorn.streams.conf.py, docs/workshop.md): the same app, in a gevent worker,
where an open workshop stream costs a greenlet instead of a thread. `StreamsOnly` lets it serve
nothing but the streams and the health check: pages, downloads and PDFs belong to the threaded
workers, and a misrouted request is refused rather than served under gevent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn import util
from gunicorn.workers import gthread


class ThreadWorker(gthread.ThreadWorker):
    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        if result is False:
            # Not kept alive: close it here, off the main loop (see the module's docstring).
            util.close_graceful(conn.sock)
        return result


STREAM_PATHS = re.compile(r"^/(?:workshop/[^/]+/events|healthz)$")


class StreamsOnly:
    """The WSGI app `app`, answering only GET (or HEAD) for a workshop's event stream or the
    health check, and 404 for anything else. `config` is the app's, for gunicorn's hooks."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.config = getattr(app, "config", None)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and STREAM_PATHS.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        body = b"This server carries the workshop's live streams only.\n"
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
