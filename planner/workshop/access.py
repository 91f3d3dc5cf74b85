"""Who may do what in a workshop session.

* The facilitator console, and every change to the session, need the plan's `manage` need
  (the facilitator role).
* The projector needs the plan's `view` need, or the projector link the console hands out
  (signed, so that a room computer nobody is signed in on can show it).
* Participants carry a signed cookie naming their `Participant` row in that session; a guest
  gets it by joining with a name, a member by joining as themselves.
* Every browser that opens a join page gets a long-lived signed device cookie, apart from the
  per-session one: the names joined from one device are shown to the facilitator together,
  and joins are limited per device (see routes/common.py).

The participant cookie and the projector key name the session's id and its code: a session's
id can come back after a deletion (SQLite reuses the highest), its random code cannot. Because
they name the code, `vouched_for` can tell without the database that a request belongs to the
session it asks about: such requests never count against the code-lookup limit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import abort, current_app, g, request, session
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from planner.accounts import roles
from planner.accounts.access import plan_or_404
from planner.accounts.membership import role_of
from planner.extensions import db
from planner.models import utcnow
from planner.workshop.models import DEVICE_TAG_LENGTH, Participant, WorkshopSession
from planner.workshop.rules import code_is_live, normalize_code

PARTICIPANT_SALT = "planner.workshop.participant"
PROJECTOR_SALT = "planner.workshop.projector"
DEVICE_SALT = "planner.workshop.device"
DEVICE_COOKIE = "workshop_device"
DEVICE_COOKIE_DAYS = 400  # as long as browsers keep a cookie
# After its session ends, a projector link shows the closing screen this long, then nothing.
CLOSING_SCREEN_FOR = timedelta(hours=12)
# Set on a request that looked up a code that leads nowhere: it counts against the lookup limit.
MISSED = "workshop_code_missed"


def session_or_404(code: str) -> WorkshopSession:
    normal = normalize_code(code)
    ws = db.session.scalar(select(WorkshopSession).where(WorkshopSession.code == normal)) if normal else None
    if ws is None:
        missed()
        abort(404)
    return ws


# ---------------------------------------------------------------- looking codes up


def missed() -> None:
    """Count this request against the code-lookup limit (routes.code_lookup): it asked for a
    code that does not exist, or that ended, without any right to it."""
    g.setdefault(MISSED, True)


def lookup_missed() -> bool:
    return bool(g.get(MISSED))


def lookup_key() -> str:
    """Whom code lookups are counted for: a signed-in account on its own (so that a guesser
    on the room's Wi-Fi does not lock the facilitator out), anyone else by address. Read from
    the signed session, as accounts/ratelimit.py explains, not from `current_user`."""
    user_id = str(session.get("_user_id", "")).partition(":")[0]
    # Behind a proxy, ProxyFix (BEHIND_PROXY) has already put the visitor's address here.
    return f"user:{user_id}" if user_id.isdigit() else "address:" + (request.remote_addr or "unknown")


def _loads(salt: str, token: str | None) -> Any:
    if not token:
        return None
    try:
        return _serializer(salt).loads(token)
    except BadSignature:
        return None


def vouched_for(code: str | None) -> bool:
    """Whether the request carries this code's own participant cookie or projector key. Signed,
    and naming the code, so it proves a right to the session without asking the database:
    these requests (a room polling its state, streams reconnecting) are never limited."""
    normal = normalize_code(code)
    if normal is None:
        return False
    for salt, token in (
        (PARTICIPANT_SALT, request.cookies.get(f"workshop_{normal}")),
        (PROJECTOR_SALT, request.args.get("key")),
    ):
        data = _loads(salt, token)
        if isinstance(data, dict) and data.get("c") == normal:
            return True
    return False


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
    return _serializer_for(current_app.config["SECRET_KEY"], salt)


@lru_cache(maxsize=32)
def _serializer_for(secret: str, salt: str) -> URLSafeSerializer:
    # Made once: every request of the room checks a cookie, and making one costs more than checking.
    return URLSafeSerializer(secret, salt=salt)


# ---------------------------------------------------------------- participants


def cookie_name(ws: WorkshopSession) -> str:
    return f"workshop_{ws.code}"


def participant_token(ws: WorkshopSession, participant: Participant) -> str:
    return _serializer(PARTICIPANT_SALT).dumps({"s": ws.id, "c": ws.code, "p": participant.id})


def current_participant(ws: WorkshopSession) -> Participant | None:
    """The participant the request's cookie names, if it is genuine and belongs to this session."""
    data = _loads(PARTICIPANT_SALT, request.cookies.get(cookie_name(ws)))
    if not isinstance(data, dict) or data.get("s") != ws.id or not isinstance(data.get("p"), int):
        return None
    # Cookies given before they named the code have no "c"; a cookie that names one names this.
    if data.get("c", ws.code) != ws.code:
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


# ---------------------------------------------------------------- devices


def device_id() -> str | None:
    """The device the request's device cookie names, if the cookie is genuine."""
    data = _loads(DEVICE_SALT, request.cookies.get(DEVICE_COOKIE))
    return data if isinstance(data, str) and data else None


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


def remember_device(response: Any, device: str) -> Any:
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer(DEVICE_SALT).dumps(device),
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def device_tag(ws: WorkshopSession, device: str) -> str:
    """What the session keeps of a device: the same for every name the device joins with in
    this session, and unrelated between sessions, so the table does not follow a phone around."""
    return hashlib.sha256(f"{ws.code}:{device}".encode()).hexdigest()[:DEVICE_TAG_LENGTH]


# ---------------------------------------------------------------- the projector


def projector_key(ws: WorkshopSession) -> str:
    return _serializer(PROJECTOR_SALT).dumps({"s": ws.id, "c": ws.code})


def projector_key_matches(ws: WorkshopSession) -> bool:
    """Whether the request's `key` is this session's projector link (live or not)."""
    data = _loads(PROJECTOR_SALT, request.args.get("key"))
    # Keys given before they named the code have no "c"; a key that names one names this.
    return isinstance(data, dict) and data.get("s") == ws.id and data.get("c", ws.code) == ws.code


def projector_allowed(ws: WorkshopSession) -> bool:
    """The live room: by the session's projector link while its code is live, or for the
    plan's members. The link expires with its session (see `closing_screen_allowed`)."""
    if projector_key_matches(ws) and code_is_live(ws.created_at, ws.ended_at, utcnow()):
        return True
    return may(ws, "view")


def closing_screen_allowed(ws: WorkshopSession) -> bool:
    """A projector link of a session that has ended shows its closing screen for a while."""
    return projector_key_matches(ws) and ws.ended_at is not None and utcnow() - ws.ended_at < CLOSING_SCREEN_FOR
