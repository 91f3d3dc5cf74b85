"""The room's side: joining by code, a participant's page and their actions (cards and dots)."""

from __future__ import annotations

from typing import Any

from flask import g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from planner.extensions import db
from planner.models import utcnow
from planner.workshop import access, rules
from planner.workshop import operations as ops
from planner.workshop.forms import CodeForm, JoinForm
from planner.workshop.models import Participant, WorkshopSession
from planner.workshop.routes.common import (
    bp,
    code_lookup,
    joins_per_address,
    joins_per_device,
    live_page,
    participant_action,
    whole,
)
from planner.workshop.rules import WorkshopError

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


@bp.get("/workshop/<code>")
@code_lookup
def participate(code: str):
    ws = access.session_or_404(code)
    participant = access.current_participant(ws)
    if participant is None:
        return redirect(url_for("workshop.join", code=ws.code))
    return live_page(ws, "workshop/participant.html", "participant", participant=participant)


# ---------------------------------------------------------------- participants' actions


@participant_action("/workshop/<code>/ideas")
def add_idea(ws: WorkshopSession, participant: Participant) -> None:
    ops.add_idea(ws, participant, request.form.get("step") or ws.step, request.form.get("text"))


@participant_action("/workshop/<code>/dots")
def place_dot(ws: WorkshopSession, participant: Participant) -> None:
    delta = 1 if request.form.get("change") == "add" else -1
    ops.place_dot(ws, participant, whole("idea"), delta)
