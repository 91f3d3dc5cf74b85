"""The facilitator's side: a plan's sessions, the console, every facilitator's action,
promoting a card to the plan, and the exports.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from planner.accounts.access import plan_or_404
from planner.extensions import db
from planner.workshop import access, export, state
from planner.workshop import operations as ops
from planner.workshop.forms import StartForm
from planner.workshop.models import WorkshopSession
from planner.workshop.routes.common import (
    answer,
    bp,
    code_lookup,
    facilitator_action,
    flag,
    live_page,
    wants_json,
    whole,
)
from planner.workshop.rules import WorkshopError

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


@bp.get("/workshop/<code>/console")
@code_lookup
def console(code: str):
    """The console while the session runs; after it, the look back at what it came to."""
    ws = access.session_or_404(code)
    plan = plan_or_404(ws.plan_id, need="manage")
    if ws.ended_at is not None:
        return render_template("workshop/summary.html", ws=ws, plan=plan, summary=state.summary(ws))
    return live_page(
        ws,
        "workshop/console.html",
        "facilitator",
        plan=plan,
        groups=[g for g in state.snapshot(ws).groups if g["step"] == ws.step],
        projector_url=url_for("workshop.projector", code=ws.code, key=access.projector_key(ws), _external=True),
    )


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


# ---------------------------------------------------------------- the facilitator's actions


@facilitator_action("/workshop/<code>/room/step")
def move_room(ws: WorkshopSession) -> None:
    ops.move_room(ws, request.form.get("step", ""))


@facilitator_action("/workshop/<code>/room/roam")
def set_roam(ws: WorkshopSession) -> None:
    ops.set_roam(ws, flag("roam"))


@facilitator_action("/workshop/<code>/steps/<slug>/settings")
def configure_step(ws: WorkshopSession, slug: str) -> None:
    ops.configure_step(ws, slug, anonymous=flag("anonymous"), private=flag("private"))


@facilitator_action("/workshop/<code>/steps/<slug>/reveal")
def reveal(ws: WorkshopSession, slug: str) -> None:
    ops.reveal(ws, slug)


@facilitator_action("/workshop/<code>/steps/<slug>/voting")
def voting(ws: WorkshopSession, slug: str) -> None:
    if request.form.get("action") == "close":
        ops.close_voting(ws, slug)
    else:
        ops.open_voting(ws, slug, whole("dots"), whole("per_idea"))


@facilitator_action("/workshop/<code>/timer")
def timer(ws: WorkshopSession) -> None:
    match request.form.get("action"):
        case "add":
            ops.add_minute(ws)
        case "stop":
            ops.stop_timer(ws)
        case _:
            ops.start_timer(ws, whole("minutes"))


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
    ops.set_group(ws, number, whole("group") if raw.isdigit() else None)


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
        return answer(ws, error, "workshop.console")
    edit_url = url_for("wizard.edit_item", plan_id=ws.plan_id, entity_name=entity, key=key)
    if wants_json():
        return jsonify(ok=True, edit_url=edit_url)
    flash(f"Idea #{number} is now in the plan. Edit it here; the workshop goes on in the other tab.", "success")
    return redirect(edit_url)
