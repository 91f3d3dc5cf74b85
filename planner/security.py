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

from flask import Flask, Response, request
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


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
