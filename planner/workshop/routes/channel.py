"""The live channel's routes: the state as JSON (polling) and the event stream (live.py)."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, request
from flask_login import current_user

from planner.extensions import db
from planner.models import utcnow
from planner.workshop import access, live, state
from planner.workshop.models import WorkshopSession
from planner.workshop.routes.common import bp, code_lookup

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
        return max(0, int(raw.split("-", 1)[0]))
    except ValueError:
        return 0


def _held_from() -> str:
    """Which process's run of states the reconnecting page holds (a changes stream's event
    ids are `revision-run`, see live.event_stream); "" when it does not say."""
    return (request.headers.get("Last-Event-ID") or "").partition("-")[2][:32]


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
    # A phone's page that can apply changes asks for them (`changes=1`): then most states it
    # gets carry only the cards that changed since the one before (live.event_stream).
    changes = participant_id is not None and request.args.get("changes") == "1"
    held_from = _held_from() if changes else ""
    stream = live.event_stream(app, ws.id, ws.code, audience, participant_id, _since(), viewer, changes, held_from)
    db.session.remove()  # the stream opens its own sessions; don't hold a connection meanwhile
    return Response(
        stream, mimetype="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
