"""Security headers on every response, and trusting a reverse proxy when told to.

The Content-Security-Policy allows scripts, styles and images from this site only, and no
inline script or style at all: everything the pages need is in static/. So a value someone
typed into a plan can never run as script, even if escaping were ever missed. Pages cannot
be framed (clickjacking), and links to other sites carry no path in the Referer header (the
paths of password-reset and invitation pages hold secrets).

Who may keep a copy of an answer (`Cache-Control`, `_cache_control`): a plan's pages,
downloads and exports, and every page shown to someone signed in (their name is on each), are
theirs alone. No shared cache keeps them, and no browser keeps them either (`private,
no-store`): nothing of a plan is left on a shared computer's disk after log-out. A download
that carries an ETag (the documents) may stay in the browser's own cache, checked with the
server before each use (`private, no-cache`), so a 304 still spares sending it again and a
member who lost access gets no copy. The app's own files, and the public pages (log-in,
sign-up, the landing page) shown to nobody in particular, keep the caching they had.

What the browser keeps for someone (drafts, `static/autosave.js`) is tied to their account by
`account_key`, an opaque id on each page's <body>, and removed at log-out: the log-out answer
carries `Clear-Site-Data` (`_clear_at_log_out`), and the log-out button clears them too, for
browsers that ignore the header.

With BEHIND_PROXY set, ProxyFix reads the visitor's address, scheme and host from the proxy's
X-Forwarded-* headers (one proxy hop). Set it only behind a proxy that sets those headers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response, abort, current_app, g, request
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from planner.text import UNPRINTABLE, printable

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


# ---------------------------------------------------------------- who may keep a copy

PRIVATE = "private, no-store"
REVALIDATED = "private, no-cache"  # a download with an ETag: the browser's own copy, checked first
# The app's own files: the same for everyone, whoever is signed in.
SHARED_FILES = frozenset({"static", "favicon"})
# Pages that show nothing of anyone, to a visitor nobody is signed in as. Shown to someone signed
# in (the landing page is then their home), they are private like every other page.
PUBLIC_PAGES = frozenset(
    {"plans.index", "accounts.login", "accounts.signup", "accounts.reset_request", "workshop.join_code"}
)


def _signed_in() -> bool:
    """Whether this request showed someone's account. Read from what Flask-Login loaded for the
    request, not by loading it now: a page that never asked (an error while the database is
    down) shows no one's data, and asking here could fail the answer a second time."""
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)


def cache_rule(endpoint: str | None, signed_in: bool, has_etag: bool) -> str | None:
    """The Cache-Control an answer gets; None leaves it as the view set it."""
    if endpoint in SHARED_FILES or (endpoint in PUBLIC_PAGES and not signed_in):
        return None
    return REVALIDATED if has_etag else PRIVATE


def _cache_control(response: Response) -> Response:
    rule = cache_rule(request.endpoint, _signed_in(), "ETag" in response.headers)
    if rule is not None:
        response.headers["Cache-Control"] = rule
        response.headers.pop("Expires", None)
    return response


# ---------------------------------------------------------------- what the browser keeps

LOG_OUT = "accounts.logout"
# Everything this site keeps in the browser: localStorage (drafts), and the HTTP cache (a
# document kept with its ETag). Cookies are the session's business (`planner.accounts.auth`).
CLEAR_AT_LOG_OUT = '"cache", "storage"'


def _clear_at_log_out(response: Response) -> Response:
    # Only a log-out that happened: a refused one (a forged form, without the CSRF token) must
    # not let another site wipe someone's drafts.
    if request.endpoint == LOG_OUT and response.status_code < 400:
        response.headers["Clear-Site-Data"] = CLEAR_AT_LOG_OUT
    return response


def account_key() -> str:
    """An opaque id of the signed-in account for what the browser keeps of it (drafts are
    stored under it): the same on every page of that account, different for every other, and
    telling nothing of who it is. Empty for nobody."""
    if not current_user.is_authenticated:
        return ""
    # The account's creation time too: an id SQLite gives again after a deletion is another key.
    message = f"browser drafts {current_user.id} {current_user.created_at.isoformat()}".encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def _without_controls(value: Any) -> Any:
    """Text without what no plan may hold (`planner.text.UNPRINTABLE`: control characters, tabs
    and line breaks aside, and U+FFFE/U+FFFF), dropped as forms and query strings are read; and a
    line break as one "\n", as the browser counted it against a field's `maxlength` (a text area
    sends "\r\n") and as the import stores it. The import refuses the same characters."""
    if not isinstance(value, str):
        return value
    return printable(value)


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
        if isinstance(value, str) and UNPRINTABLE.search(value):
            abort(404)
        if isinstance(value, int) and value >= ID_LIMIT:
            abort(404)


def init_app(app: Flask) -> None:
    app.request_class = PlannerRequest
    app.before_request(_refuse_what_no_route_reads)
    app.after_request(_add_headers)
    app.after_request(_cache_control)
    app.after_request(_clear_at_log_out)
    app.add_template_global(account_key)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
