"""Who may do what in a workshop session.

* The facilitator console, and every change to the session, need the plan's `manage` need
  (the facilitator role).
* The projector needs the plan's `view` need, or the projector link the console hands out
  (signed, so that a room computer nobody is signed in on can show it).
* Participants carry a signed cookie naming their `Participant` row in that session; a guest
  gets it by joining with a name, a member by joining as themselves.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from planner.accounts import roles
from planner.accounts.membership import role_of
from planner.extensions import db
from planner.plans.access import plan_or_404
from planner.workshop.models import Participant, WorkshopSession
from planner.workshop.rules import normalize_code

PARTICIPANT_SALT = "planner.workshop.participant"
PROJECTOR_SALT = "planner.workshop.projector"


def session_or_404(code: str) -> WorkshopSession:
    normal = normalize_code(code)
    ws = db.session.scalar(select(WorkshopSession).where(WorkshopSession.code == normal)) if normal else None
    if ws is None:
        abort(404)
    return ws


def allowed(plan_id: int, need: str) -> bool:
    """Whether the signed-in person (if any) has `need` on the plan."""
    return current_user.is_authenticated and roles.allows(role_of(plan_id, current_user.id), need)


def may(ws: WorkshopSession, need: str) -> bool:
    return allowed(ws.plan_id, need)


def require(ws: WorkshopSession, need: str) -> None:
    """Stop the request unless the signed-in person has `need` on the session's plan, with the
    plan's own answers (log in, 404 for strangers, 403 for too low a role)."""
    plan_or_404(ws.plan_id, need)


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


# ---------------------------------------------------------------- participants


def cookie_name(ws: WorkshopSession) -> str:
    return f"workshop_{ws.code}"


def participant_token(ws: WorkshopSession, participant: Participant) -> str:
    return _serializer(PARTICIPANT_SALT).dumps({"s": ws.id, "p": participant.id})


def current_participant(ws: WorkshopSession) -> Participant | None:
    """The participant the request's cookie names, if it is genuine and belongs to this session."""
    token = request.cookies.get(cookie_name(ws))
    if not token:
        return None
    try:
        data = _serializer(PARTICIPANT_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != ws.id or not isinstance(data.get("p"), int):
        return None
    participant = db.session.get(Participant, data["p"])
    if participant is None or participant.session_id != ws.id:
        return None
    return participant


def remember_participant(response: Any, ws: WorkshopSession, participant: Participant) -> Any:
    response.set_cookie(
        cookie_name(ws),
        participant_token(ws, participant),
        max_age=7 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


# ---------------------------------------------------------------- the projector


def projector_key(ws: WorkshopSession) -> str:
    return _serializer(PROJECTOR_SALT).dumps(ws.id)


def projector_allowed(ws: WorkshopSession) -> bool:
    key = request.args.get("key", "")
    if key:
        try:
            if _serializer(PROJECTOR_SALT).loads(key) == ws.id:
                return True
        except BadSignature:
            pass
    return may(ws, "view")
