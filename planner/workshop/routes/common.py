"""The workshop blueprint and what its routes share: the limits on codes and joins, how an
action answers (JSON for the page's script, else flash and redirect), the decorators for
the facilitator's and the participants' actions, and the live pages' template call.

The routes themselves are by what they are for: `console` (a plan's sessions, the
facilitator's console, actions and exports), `guests` (joining, and a participant's page
and actions), `projector` (the big screen and its QR code), `channel` (the live state and
its stream). Every action is a small POST form (the page's script sends the same form with
fetch and the CSRF token in a header, and gets JSON back); without the script it posts,
redirects, and the page shows the result. Each view checks who is asking (`access`), parses
the form and calls one function in `operations`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from planner.domain import STEP_BY_SLUG, STEPS
from planner.extensions import db, limiter
from planner.workshop import access, rules, state
from planner.workshop.models import WorkshopSession
from planner.workshop.rules import WorkshopError

bp = Blueprint("workshop", __name__)

# Joining by code is what a code-guesser would hammer. Every route with a code in it tells a
# live code from a dead one, so all of them share one limit (`code_lookup`); only lookups of
# codes that lead nowhere count against it, and requests that carry the code's own cookie or
# projector key are never limited: a room polling its state never comes near it. The app's
# config may override each limit here (WORKSHOP_CODE_LOOKUP_LIMIT, WORKSHOP_JOINS_PER_...).
# Codes are 8 characters of 31 symbols, about 10^12 of them, so guessing needs no tight limit:
# a room's typos on one Wi-Fi address stay well under this one.
CODE_LOOKUP_LIMIT = "60 per minute; 300 per hour"
# Joins that happened (a POST answered 303: refused or invalid ones do not count), per device
# and per address. 1,000 phones behind one venue router join within a few minutes under the
# second; one phone making its eleventh name in an hour meets the first.
JOINS_PER_DEVICE = "10 per hour"
JOINS_PER_ADDRESS = "600 per minute; 3000 per hour"


def _joined(response: Any) -> bool:
    return response.status_code == 303


# What the 429 page says, by the limit that was met (`g.workshop_limit`, set on its breach).
TOO_MANY = {
    "lookup": (
        "Too many tries at workshop codes",
        "There were many tries at codes that lead to no workshop from here in a short time. "
        "Check the code on the big screen, wait a few minutes, then try again.",
    ),
    "device": (
        "This device has joined many times",
        "This device has joined workshops under many names in the last hour. Each person joins once, "
        "on their own phone or computer; the facilitator can type a card for anyone without one.",
    ),
    "address": (
        "Many people have just joined from here",
        "Very many people have joined from this network in a short time. Wait a minute, then try again.",
    ),
}
_LIMIT_MET = "workshop_limit"


def _met(which: str) -> Callable[[Any], None]:
    def on_breach(_limit: Any) -> None:
        g.setdefault(_LIMIT_MET, which)

    return on_breach


@bp.errorhandler(429)
def too_many(error: Any) -> Any:
    title, message = TOO_MANY[g.get(_LIMIT_MET, "lookup")]
    headers = {k: v for k, v in error.get_response().headers.items() if k == "Retry-After"}
    headers["Cache-Control"] = "no-store"
    if wants_json():
        return jsonify(error=message), 429, headers
    return render_template("workshop/too_many.html", title=title, message=message), 429, headers


def _lookup_exempt() -> bool:
    return access.vouched_for((request.view_args or {}).get("code"))


code_lookup = limiter.shared_limit(
    lambda: current_app.config.get("WORKSHOP_CODE_LOOKUP_LIMIT", CODE_LOOKUP_LIMIT),
    scope="workshop-code-lookup",
    key_func=access.lookup_key,
    exempt_when=_lookup_exempt,
    deduct_when=lambda _response: access.lookup_missed(),
    on_breach=_met("lookup"),
)


def _device_key() -> str:
    return "device:" + (access.device_id() or "")


joins_per_device = limiter.limit(
    lambda: current_app.config.get("WORKSHOP_JOINS_PER_DEVICE", JOINS_PER_DEVICE),
    key_func=_device_key,
    methods=["POST"],
    # A device without its cookie (cleared, or never kept) is limited by its address alone.
    exempt_when=lambda: access.device_id() is None,
    deduct_when=_joined,
    on_breach=_met("device"),
)
joins_per_address = limiter.limit(
    lambda: current_app.config.get("WORKSHOP_JOINS_PER_ADDRESS", JOINS_PER_ADDRESS),
    key_func=lambda: "address:" + (request.remote_addr or "unknown"),
    methods=["POST"],
    deduct_when=_joined,
    on_breach=_met("address"),
)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def whole(name: str) -> int:
    try:
        value = int(request.form.get(name, ""))
    except ValueError:
        raise WorkshopError(f"{name} must be a whole number.") from None
    if not -(2**31) <= value < 2**31:  # what a database integer holds; past it, queries fail
        raise WorkshopError(f"{name} is out of range.")
    return value


def flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def answer(ws: WorkshopSession, error: WorkshopError | None, back: str) -> Any:
    """The reply to an action: JSON for the page's script, else flash and back to the page."""
    if wants_json():
        if error:
            return jsonify(error=str(error)), 422
        return jsonify(ok=True, revision=state.current_revision(ws.id))
    if error:
        flash(str(error), "error")
    return redirect(url_for(back, code=ws.code))


def _attempt(ws: WorkshopSession, back: str, run: Callable[[], Any]) -> Any:
    """Run an action and answer it (`answer`). A refused action keeps nothing it wrote, even
    when its answer is a redirect, which the request would otherwise commit."""
    try:
        run()
    except WorkshopError as error:
        db.session.rollback()
        return answer(ws, error, back)
    return answer(ws, None, back)


def facilitator_action(rule: str) -> Callable[[Callable[..., Any]], Any]:
    """A POST that changes the session, for the plan's facilitators only."""

    def decorate(action: Callable[..., Any]) -> Any:
        @wraps(action)
        def view(code: str, **kwargs: Any) -> Any:
            ws = access.session_or_404(code)
            access.require(ws, "manage")
            return _attempt(ws, "workshop.console", lambda: action(ws, **kwargs))

        bp.post(rule)(code_lookup(view))
        return view

    return decorate


def participant_action(rule: str) -> Callable[[Callable[..., Any]], Any]:
    """A POST made by someone who joined the session."""

    def decorate(action: Callable[..., Any]) -> Any:
        @wraps(action)
        def view(code: str, **kwargs: Any) -> Any:
            ws = access.session_or_404(code)
            participant = access.current_participant(ws)
            if participant is None:
                abort(403)
            return _attempt(ws, "workshop.participate", lambda: action(ws, participant, **kwargs))

        bp.post(rule)(code_lookup(view))
        return view

    return decorate


def live_page(ws: WorkshopSession, template: str, view: str, **extra: Any) -> str:
    """A live view; once the session has ended, its closing screen (`summary` set), which
    the page's script reloads into when the end arrives live."""
    # Which state the page's script asks for: a participant's is the default.
    live_args = {} if view == "participant" else {"as": view}
    if extra.get("key"):
        live_args["key"] = extra["key"]
    return render_template(
        template,
        summary=state.summary(ws) if ws.ended_at is not None else None,
        live_args=live_args,
        ws=ws,
        view=view,
        steps=STEPS,
        step=STEP_BY_SLUG[ws.step],
        code_spaced=rules.spaced(ws.code),
        join_url=url_for("workshop.join", code=ws.code, _external=True),
        join_short=request.host + url_for("workshop.join_code"),
        **extra,
    )
