"""The workshop's pages and actions: joining, the three views, the live channel, exports.

Every action is a small POST form (the page's script sends the same form with fetch and the
CSRF token in a header, and gets JSON back); without the script it posts, redirects, and the
page shows the result. Each view checks who is asking (`access`), parses the form and calls
one function in `operations`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from planner.accounts.access import plan_or_404
from planner.domain import STEP_BY_SLUG, STEPS
from planner.extensions import db, limiter
from planner.models import utcnow
from planner.workshop import access, export, live, rules, state
from planner.workshop import operations as ops
from planner.workshop.forms import CodeForm, JoinForm, StartForm
from planner.workshop.models import Participant, WorkshopSession
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
    if _wants_json():
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


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _int(name: str) -> int:
    try:
        value = int(request.form.get(name, ""))
    except ValueError:
        raise WorkshopError(f"{name} must be a whole number.") from None
    if not -(2**31) <= value < 2**31:  # what a database integer holds; past it, queries fail
        raise WorkshopError(f"{name} is out of range.")
    return value


def _flag(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


def _answer(ws: WorkshopSession, error: WorkshopError | None, back: str) -> Any:
    """The reply to an action: JSON for the page's script, else flash and back to the page."""
    if _wants_json():
        if error:
            return jsonify(error=str(error)), 422
        return jsonify(ok=True, revision=state.current_revision(ws.id))
    if error:
        flash(str(error), "error")
    return redirect(url_for(back, code=ws.code))


def facilitator_action(rule: str) -> Callable[[Callable[..., Any]], Any]:
    """A POST that changes the session, for the plan's facilitators only."""

    def decorate(action: Callable[..., Any]) -> Any:
        @wraps(action)
        def view(code: str, **kwargs: Any) -> Any:
            ws = access.session_or_404(code)
            access.require(ws, "manage")
            try:
                action(ws, **kwargs)
            except WorkshopError as error:
                return _answer(ws, error, "workshop.console")
            return _answer(ws, None, "workshop.console")

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
            try:
                action(ws, participant, **kwargs)
            except WorkshopError as error:
                return _answer(ws, error, "workshop.participate")
            return _answer(ws, None, "workshop.participate")

        bp.post(rule)(code_lookup(view))
        return view

    return decorate


# ---------------------------------------------------------------- a plan's sessions


@bp.get("/plans/<int:plan_id>/workshops")
def sessions(plan_id: int):
    return _sessions_page(plan_or_404(plan_id, need="view"), StartForm(formdata=None))


def _sessions_page(plan: Any, form: StartForm, status: int = 200) -> Any:
    found = db.session.scalars(
        db.select(WorkshopSession).where(WorkshopSession.plan_id == plan.id).order_by(WorkshopSession.id.desc())
    ).all()
    counts = state.idea_counts([ws.id for ws in found])
    return render_template(
        "workshop/sessions.html",
        plan=plan,
        sessions=found,
        counts=counts,
        form=form,
        can_run=access.allowed(plan.id, "manage"),
    ), status


@bp.post("/plans/<int:plan_id>/workshops")
def start(plan_id: int):
    plan = plan_or_404(plan_id, need="manage")
    form = StartForm()
    if not form.validate():
        return _sessions_page(plan, form, 422)
    ws = ops.start_session(plan, current_user, form.step.data)
    return redirect(url_for("workshop.console", code=ws.code))


# ---------------------------------------------------------------- joining


@bp.route("/join", methods=["GET", "POST"])
@code_lookup
def join_code():
    """Type the code from the screen. Every answer but "in you go" counts as a lookup missed."""
    form = CodeForm()
    if request.method == "POST":
        access.missed()
    if form.validate_on_submit():
        code = rules.normalize_code(form.code.data)
        ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code)) if code else None
        if ws is not None and rules.code_is_live(ws.created_at, ws.ended_at, utcnow()):
            g.pop(access.MISSED, None)
            return redirect(url_for("workshop.join", code=ws.code), 303)
        # Someone who arrives late should hear that it ended, not that they mistyped.
        form.code.errors.append(
            "That workshop has ended."
            if ws is not None
            else "No workshop is running with that code. Check it on the big screen."
        )
        return render_template("workshop/join_code.html", form=form), 404
    return render_template("workshop/join_code.html", form=form)


@bp.route("/join/<code>", methods=["GET", "POST"])
@code_lookup
@joins_per_address
@joins_per_device
def join(code: str):
    ws = access.session_or_404(code)
    # Someone who took part (scanning the code again, after the end too) goes to their page.
    if access.current_participant(ws) is not None:
        return redirect(url_for("workshop.participate", code=ws.code))
    if not rules.code_is_live(ws.created_at, ws.ended_at, utcnow()):
        access.missed()
        return render_template("workshop/ended.html", ws=ws), 410
    # The device cookie comes with the join page, so the join itself carries it; a device
    # without one (cleared, or never kept) gets a new one here.
    device = access.device_id()
    fresh = device is None
    device = device or access.new_device_id()
    member = current_user if current_user.is_authenticated else None
    form = JoinForm()
    response: Any = None
    if request.method == "POST" and (member is not None or form.validate()):
        try:
            participant = ops.join(ws, form.name.data, member, access.device_tag(ws, device))
        except WorkshopError as error:
            form.name.errors.append(str(error))
        else:
            response = redirect(url_for("workshop.participate", code=ws.code), 303)
            access.remember_participant(response, ws, participant)
    if response is None:
        status = 422 if form.errors else 200
        response = make_response(render_template("workshop/join.html", ws=ws, form=form, member=member), status)
    if fresh:
        access.remember_device(response, device)
    return response


# ---------------------------------------------------------------- the three views


def _page(ws: WorkshopSession, template: str, view: str, **extra: Any) -> str:
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


@bp.get("/workshop/<code>")
@code_lookup
def participate(code: str):
    ws = access.session_or_404(code)
    participant = access.current_participant(ws)
    if participant is None:
        return redirect(url_for("workshop.join", code=ws.code))
    return _page(ws, "workshop/participant.html", "participant", participant=participant)


@bp.get("/workshop/<code>/console")
@code_lookup
def console(code: str):
    """The console while the session runs; after it, the look back at what it came to."""
    ws = access.session_or_404(code)
    plan = plan_or_404(ws.plan_id, need="manage")
    if ws.ended_at is not None:
        return render_template("workshop/summary.html", ws=ws, plan=plan, summary=state.summary(ws))
    return _page(
        ws,
        "workshop/console.html",
        "facilitator",
        plan=plan,
        groups=[g for g in state.snapshot(ws).groups if g["step"] == ws.step],
        projector_url=url_for("workshop.projector", code=ws.code, key=access.projector_key(ws), _external=True),
    )


@bp.get("/workshop/<code>/projector")
@code_lookup
def projector(code: str):
    """The room on the big screen, for the plan's members or by the console's link. The link
    expires with its session: then its closing screen for a while, then the ended page."""
    ws = access.session_or_404(code)
    if not access.projector_allowed(ws):
        if access.projector_key_matches(ws):
            if not access.closing_screen_allowed(ws):
                return render_template("workshop/ended.html", ws=ws), 410
        else:
            access.require(ws, "view")
    return _page(ws, "workshop/projector.html", "projector", key=request.args.get("key", ""))


# ---------------------------------------------------------------- the live channel


def _viewer(ws: WorkshopSession, over_ok: bool = False) -> tuple[str, int | None]:
    """Which state the request may see: (audience, participant id). The audience "over" (only
    if `over_ok`) is a projector link whose session has ended: it hears that, and nothing else."""
    wanted = request.args.get("as", "participant")
    if wanted == "facilitator":
        access.require(ws, "manage")
        return "facilitator", None
    if wanted == "projector":
        if not access.projector_allowed(ws):
            if access.projector_key_matches(ws):
                if over_ok:
                    return "over", None
                abort(410)
            abort(403)
        return "room", None
    participant = access.current_participant(ws)
    if participant is None:
        abort(403)
    return "room", participant.id


def _since() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since") or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        return 0


@bp.get("/workshop/<code>/state")
@code_lookup
def current_state(code: str):
    """The whole state as JSON; 204 if it has not moved past `since`."""
    ws = access.session_or_404(code)
    audience, participant_id = _viewer(ws, over_ok=True)
    if audience == "over":
        # Enough for the projector's script to load the page again, into what the link shows now.
        over = {"server_now": state.epoch_ms(utcnow()), "revision": ws.revision, "view": {"ended": True}, "me": None}
        body = json.dumps(over)
        return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})
    if "since" in request.args and ws.revision <= _since():
        return Response(status=204, headers={"Cache-Control": "no-store"})
    body = state.payload(ws, audience, participant_id)
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.get("/workshop/<code>/events")
@code_lookup
def events(code: str):
    ws = access.session_or_404(code)
    audience, participant_id = _viewer(ws)
    # Whose stream this is, for the caps on open streams (live.Watcher.open).
    if participant_id is not None:
        viewer: tuple[str, int | str] = ("participant", participant_id)
    elif audience == "facilitator" or not access.projector_key_matches(ws):
        viewer = ("account", current_user.id)  # the console, or a member watching the projector view
    else:
        viewer = ("projector", ws.id)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stream = live.event_stream(app, ws.id, ws.code, audience, participant_id, _since(), viewer)
    db.session.remove()  # the stream opens its own sessions; don't hold a connection meanwhile
    return Response(
        stream,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@bp.get("/workshop/<code>/qr.svg")
@code_lookup
def qr(code: str):
    ws = access.session_or_404(code)
    url = url_for("workshop.join", code=ws.code, _external=True)
    out = io.BytesIO()
    # A standalone SVG document (with its namespace, as an <img> needs) that scales to its box.
    segno.make(url, error="m").save(out, kind="svg", border=2, dark="#000", light="#fff", omitsize=True, xmldecl=False)
    response = make_response(out.getvalue())
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- exports


def _export(code: str, kind: str) -> Response:
    """The session's record: the facilitator's whole, anyone else's what the room sees."""
    ws = access.session_or_404(code)
    access.require(ws, "view")
    room_only = not access.may(ws, "manage")
    snap = state.snapshot(ws)
    names = state.item_names(ws.plan_id, snap.ideas)
    if kind == "csv":
        body, mimetype, suffix = export.to_csv(snap, names, room_only=room_only), "text/csv", "csv"
    else:
        body, mimetype, suffix = export.to_markdown(snap, names, room_only=room_only), "text/markdown", "md"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="workshop-{ws.code}.{suffix}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/workshop/<code>/export.csv")
@code_lookup
def export_csv(code: str):
    return _export(code, "csv")


@bp.get("/workshop/<code>/export.md")
@code_lookup
def export_markdown(code: str):
    return _export(code, "markdown")


# ---------------------------------------------------------------- participants' actions


@participant_action("/workshop/<code>/ideas")
def add_idea(ws: WorkshopSession, participant: Participant) -> None:
    ops.add_idea(ws, participant, request.form.get("step") or ws.step, request.form.get("text"))


@participant_action("/workshop/<code>/dots")
def place_dot(ws: WorkshopSession, participant: Participant) -> None:
    delta = 1 if request.form.get("change") == "add" else -1
    ops.place_dot(ws, participant, _int("idea"), delta)


# ---------------------------------------------------------------- the facilitator's actions


@facilitator_action("/workshop/<code>/room/step")
def move_room(ws: WorkshopSession) -> None:
    ops.move_room(ws, request.form.get("step", ""))


@facilitator_action("/workshop/<code>/room/roam")
def set_roam(ws: WorkshopSession) -> None:
    ops.set_roam(ws, _flag("roam"))


@facilitator_action("/workshop/<code>/steps/<slug>/settings")
def configure_step(ws: WorkshopSession, slug: str) -> None:
    ops.configure_step(ws, slug, anonymous=_flag("anonymous"), private=_flag("private"))


@facilitator_action("/workshop/<code>/steps/<slug>/reveal")
def reveal(ws: WorkshopSession, slug: str) -> None:
    ops.reveal(ws, slug)


@facilitator_action("/workshop/<code>/steps/<slug>/voting")
def voting(ws: WorkshopSession, slug: str) -> None:
    if request.form.get("action") == "close":
        ops.close_voting(ws, slug)
    else:
        ops.open_voting(ws, slug, _int("dots"), _int("per_idea"))


@facilitator_action("/workshop/<code>/timer")
def timer(ws: WorkshopSession) -> None:
    match request.form.get("action"):
        case "add":
            ops.add_minute(ws)
        case "stop":
            ops.stop_timer(ws)
        case _:
            ops.start_timer(ws, _int("minutes"))


@facilitator_action("/workshop/<code>/cards")
def write_card(ws: WorkshopSession) -> None:
    """A card typed by the facilitator for someone without a device."""
    ops.add_idea(
        ws, None, request.form.get("step") or ws.step, request.form.get("text"), written_for=request.form.get("for")
    )


@facilitator_action("/workshop/<code>/ideas/<int:number>/edit")
def edit_idea(ws: WorkshopSession, number: int) -> None:
    ops.edit_idea(ws, number, request.form.get("text"), request.form.get("step"))


@facilitator_action("/workshop/<code>/ideas/<int:number>/hide")
def hide_idea(ws: WorkshopSession, number: int) -> None:
    ops.hide_idea(ws, number, hidden=request.form.get("hidden", "1") != "0")


@facilitator_action("/workshop/<code>/ideas/<int:number>/group")
def group_idea(ws: WorkshopSession, number: int) -> None:
    raw = request.form.get("group", "")
    ops.set_group(ws, number, _int("group") if raw.isdigit() else None)


@facilitator_action("/workshop/<code>/groups")
def add_group(ws: WorkshopSession) -> None:
    ops.add_group(ws, request.form.get("step") or ws.step, request.form.get("label"))


@facilitator_action("/workshop/<code>/groups/<int:group_id>/rename")
def rename_group(ws: WorkshopSession, group_id: int) -> None:
    ops.rename_group(ws, group_id, request.form.get("label"))


@facilitator_action("/workshop/<code>/groups/<int:group_id>/delete")
def delete_group(ws: WorkshopSession, group_id: int) -> None:
    ops.delete_group(ws, group_id)


@facilitator_action("/workshop/<code>/end")
def end(ws: WorkshopSession) -> None:
    ops.end_session(ws)


@bp.post("/workshop/<code>/ideas/<int:number>/promote")
@code_lookup
def promote(code: str, number: int):
    """Make a card a plan item, then open the item's edit form in the wizard."""
    ws = access.session_or_404(code)
    access.require(ws, "manage")
    try:
        entity, key = ops.promote(ws, number, request.form.get("entity", ""), current_user)
    except WorkshopError as error:
        return _answer(ws, error, "workshop.console")
    edit_url = url_for("wizard.edit_item", plan_id=ws.plan_id, entity_name=entity, key=key)
    if _wants_json():
        return jsonify(ok=True, edit_url=edit_url)
    flash(f"Idea #{number} is now in the plan. Edit it here; the workshop goes on in the other tab.", "success")
    return redirect(edit_url)
