"""Security headers on every response, and trusting a reverse proxy when told to.

The Content-Security-Policy allows scripts, styles and images from this site only, and no
inline script or style at all: everything the pages need is in static/. So a value someone
typed into a plan can never run as script, even if escaping were ever missed. Pages cannot
be framed (clickjacking), and links to other sites carry no path in the Referer header (the
paths of password-reset and invitation pages hold secrets).

With BEHIND_PROXY set, ProxyFix reads the visitor's address, scheme and host from the proxy's
X-Forwarded-* headers (one proxy hop). Set it only behind a proxy that sets those headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Two years, the usual preload length; sent only on HTTPS, where a browser heeds it.
HSTS = "max-age=63072000; includeSubDomains"


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


# Control characters (tabs and line breaks aside) have no place in anything a person types:
# PostgreSQL refuses NUL in text, and Word files refuse the rest. The import refuses them
# (`planner.interchange.validate`); in forms and query strings they are dropped as they are read.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _without_controls(value: Any) -> Any:
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


class CleanValues(ImmutableMultiDict):
    """Form fields and query arguments as every view and form reads them: no control characters."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is not None and not isinstance(mapping, Mapping):
            mapping = [(_without_controls(key), _without_controls(value)) for key, value in mapping]
        super().__init__(mapping)


class PlannerRequest(Request):
    parameter_storage_class = CleanValues


# No id is that large, and no query could hold a larger one (a 32-bit integer column).
ID_LIMIT = 2**31


def _refuse_what_no_route_reads() -> None:
    """No route reads a JSON body (forms and the pages' scripts send form data), yet Flask-WTF
    would take one as a form's data and fail on anything but a flat object of strings: 415.
    A control character in the path (an item key, a token), or an id past what a database
    integer holds, cannot name anything: 404."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json:
        abort(415)
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            abort(404)
        if isinstance(value, int) and value >= ID_LIMIT:
            abort(404)


def init_app(app: Flask) -> None:
    app.request_class = PlannerRequest
    app.before_request(_refuse_what_no_route_reads)
    app.after_request(_add_headers)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
