"""The workshop's stream server's front door (gunicorn.streams.conf.py, docs/workshop.md).

The stream server runs the same app in a gevent worker, where an open workshop stream costs a
greenlet instead of a thread. `StreamsOnly` lets it serve nothing but the streams and the health
check: pages, downloads and PDFs belong to the threaded workers (gunicorn.conf.py), and a
misrouted request is refused rather than served under gevent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

STREAM_PATHS = re.compile(r"^/(?:workshop/[^/]+/events|healthz)$")
REFUSED = b"This server carries the workshop's live streams only.\n"
# What every answer of the app carries (planner/security.py), for the one this door gives itself.
REFUSED_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(REFUSED))),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
]


class StreamsOnly:
    """The WSGI app `app`, answering only GET (or HEAD) for a workshop's event stream or the
    health check, and 404 for anything else. `config` is the app's, for gunicorn's hooks."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.config = getattr(app, "config", None)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and STREAM_PATHS.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        start_response("404 Not Found", list(REFUSED_HEADERS))
        return [REFUSED]
