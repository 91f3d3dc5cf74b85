"""The session's state as JSON, as each kind of screen sees it.

A state is built from a `Snapshot` read with a fixed number of queries. Each process keeps the
latest snapshot of each session, and its room and facilitator JSON, keyed by the session's
revision: when 150 phones ask for revision 812, the database is read once and the JSON
written once. This is only a cache of what the database holds, so a second process simply
builds its own. What differs per person (their own cards and dots) is small and added per request.
Each entry also dates every card against the entry before it, so that a phone holding an older
state can be sent only the cards that changed (`changes_json`, docs/workshop.md).
"""

from __future__ import annotations

import bisect
import json
import os
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from planner.domain import ENTITY_BY_NAME, STEPS
from planner.extensions import db
from planner.models import ITEM_MODELS, Plan, utcnow
from planner.workshop import rules
from planner.workshop.models import Idea, IdeaGroup, Participant, Vote, WorkshopSession, WorkshopStep

AUDIENCES = ("room", "facilitator")
_CACHE_SIZE = 16
# How many of its latest revisions of a session a process can send the changes since.
_BUILT_KEPT = 256


def epoch_ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def load_snapshot(ws: WorkshopSession) -> rules.Snapshot:
    plan_title = db.session.scalar(select(Plan.title).where(Plan.id == ws.plan_id))
    steps = {
        s.step: {
            "anonymous": s.anonymous,
            "private": s.private,
            "revealed": s.revealed,
            "voting": s.voting,
            "dots": s.dots,
            "per_idea": s.per_idea,
        }
        for s in db.session.scalars(select(WorkshopStep).where(WorkshopStep.session_id == ws.id))
    }
    # Keep the wizard's order, whatever order the rows came in.
    steps = {s.slug: steps[s.slug] for s in STEPS if s.slug in steps}
    participants: dict[int, str] = {}
    devices: dict[int, str] = {}
    for pid, name, device in db.session.execute(
        select(Participant.id, Participant.name, Participant.device)
        .where(Participant.session_id == ws.id)
        .order_by(Participant.id)
    ):
        participants[pid] = name
        if device:
            devices[pid] = device
    groups = [
        {"id": g.id, "step": g.step, "label": g.label}
        for g in db.session.scalars(select(IdeaGroup).where(IdeaGroup.session_id == ws.id).order_by(IdeaGroup.id))
    ]
    # Plain rows, not ORM objects: a big room's hundreds of cards are read many times a minute.
    idea_columns = (
        Idea.id,
        Idea.number,
        Idea.step,
        Idea.text,
        Idea.participant_id,
        Idea.written_for,
        Idea.hidden,
        Idea.group_id,
        Idea.promoted_entity,
        Idea.promoted_key,
    )
    ideas = [
        dict(row._mapping)
        for row in db.session.execute(select(*idea_columns).where(Idea.session_id == ws.id).order_by(Idea.number))
    ]
    votes: dict[int, dict[int, int]] = {}
    for idea_id, participant_id, dots in db.session.execute(
        select(Vote.idea_id, Vote.participant_id, Vote.dots)
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Idea.session_id == ws.id, Vote.dots > 0)
    ):
        votes.setdefault(idea_id, {})[participant_id] = dots
    session = {
        "code": ws.code,
        "code_spaced": rules.spaced(ws.code),
        "plan": {"id": ws.plan_id, "title": plan_title},
        "revision": ws.revision,
        "step": ws.step,
        "roam": ws.roam,
        "ended": ws.ended_at is not None,
        "timer": {"ends_at": epoch_ms(ws.timer_ends_at), "seconds": ws.timer_seconds},
    }
    return rules.Snapshot(session, steps, participants, groups, ideas, votes, devices)


class _Entry:
    def __init__(self, revision: int, snap: rules.Snapshot) -> None:
        self.revision = revision
        self.snap = snap
        self.json: dict[str, str] = {}
        self.personal: dict[int, str] | None = None  # each participant's own part, as JSON
        self.frames: dict[tuple[str, str], bytes] = {}  # the live channel's shared bytes (live.py)
        self.lock = threading.Lock()
        # What a phone that holds an older state needs (`changes_json`), kept from the entry
        # this process held before: the room's cards by number, the revision of the entry in
        # which each card took its present form, and of the one in which each card left the
        # room's view. Both are revisions of entries this process built (`built`): a change
        # made between two of them is dated by the later one.
        self.room: dict[int, dict[str, Any]] = {}
        self.changed: dict[int, int] = {}
        self.left: dict[int, int] = {}
        self.built: tuple[int, ...] = ()
        self.pace = ""  # rules.pace: what a phone hears at once when it changes
        self.changes: dict[int, bytes] = {}  # the live channel's bytes of the changes since a revision
        self.common: str | None = None  # the room's view without its cards, as JSON without its "}"
        self.by_date: list[tuple[int, int]] = []  # (when it took its present form, number) of each card
        self.dates: list[int] = []

    def follow(self, before: _Entry | None) -> None:
        """Date each card's present form and each card's leaving against `before`, the entry
        this process held for the session until now (None: this is the first)."""
        self.room = {idea["n"]: idea for idea in rules.room_ideas(self.snap)}
        self.pace = rules.pace(self.snap)
        now = self.revision
        if before is None or not before.built:
            self.changed = dict.fromkeys(self.room, now)
            self.built = (now,)
            return
        old, old_changed = before.room, before.changed
        self.changed = {n: old_changed[n] if old.get(n) == idea else now for n, idea in self.room.items()}
        self.left = {n: at for n, at in before.left.items() if n not in self.room}
        self.left.update((n, now) for n in old if n not in self.room)
        self.built = (*before.built[-(_BUILT_KEPT - 1) :], now)


# Keyed by id and code: a deleted session's id can come back (SQLite reuses the highest), its
# random code cannot.
_cache: OrderedDict[tuple[int, str], _Entry] = OrderedDict()
_cache_lock = threading.Lock()


_building: dict[tuple[int, str], threading.Lock] = {}
_follow_lock = threading.Lock()


_run: tuple[int, str] = (0, "")


def run_of_states() -> str:
    """A name for the states this process builds, new in every process (a forked worker too):
    a changes stream names it in its event ids, so that changes are sent only against a state
    this same process built and sent (`live.event_stream`)."""
    global _run
    if _run[0] != os.getpid():
        _run = (os.getpid(), secrets.token_hex(4))
    return _run[1]


def _cached(key: tuple[int, str], revision: int) -> _Entry | None:
    """The cached state of a session at `revision` or newer (a build may have read a newer one)."""
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None and entry.revision >= revision:
            _cache.move_to_end(key)
            return entry
    return None


def _store(key: tuple[int, str], entry: _Entry) -> _Entry:
    with _follow_lock:  # one after another: each new entry follows the one before it
        with _cache_lock:
            current = _cache.get(key)
        if current is not None and current.revision >= entry.revision:
            return current
        entry.follow(current)
        with _cache_lock:
            _cache[key] = entry
            _cache.move_to_end(key)
            while len(_cache) > _CACHE_SIZE:
                old, _ = _cache.popitem(last=False)
                _building.pop(old, None)
    return entry


def _entry(ws: WorkshopSession) -> _Entry:
    """The state at `ws.revision` or newer, for a request, which already holds a database
    connection: on a miss it reads the state itself rather than wait for anyone."""
    key = (ws.id, ws.code)
    entry = _cached(key, ws.revision)
    if entry is not None:
        return entry
    return _store(key, _Entry(ws.revision, load_snapshot(ws)))


def snapshot(ws: WorkshopSession) -> rules.Snapshot:
    return _entry(ws).snap


def payload(ws: WorkshopSession, audience: str, participant_id: int | None = None) -> str:
    """The state for one screen, as JSON text: the shared part comes from the cache."""
    return _payload_from(_entry(ws), audience, participant_id)


def shared_json(entry: _Entry, audience: str) -> str:
    """The part of the state everyone of `audience` sees, as JSON, made once per entry."""
    shared = entry.json.get(audience)
    if shared is None:
        with entry.lock:
            shared = entry.json.get(audience)
            if shared is None:
                if audience == "facilitator":
                    view = rules.facilitator_view(entry.snap)
                else:
                    view = {**rules.common_view(entry.snap), "ideas": list(entry.room.values())}
                shared = entry.json[audience] = json.dumps(view, separators=(",", ":"))
    return shared


def changes_json(entry: _Entry, since: int) -> str | None:
    """The room's view for a phone that holds the room's view at `since`: everything but the
    cards whole, and of the cards only those new or changed since, with the numbers of those
    that left the room (`gone`). None when this process cannot tell (it did not build the
    state at `since`): then the phone gets the whole view. Costs the changes, not the room:
    the rest is made once per entry, and the cards are found by their dates (`by_date`)."""
    if since >= entry.revision or since not in entry.built:
        return None
    with entry.lock:
        if entry.common is None:
            entry.common = json.dumps(rules.common_view(entry.snap), separators=(",", ":"))[:-1]
            entry.by_date = sorted((at, n) for n, at in entry.changed.items())
            entry.dates = [at for at, _ in entry.by_date]
    newer = entry.by_date[bisect.bisect_right(entry.dates, since) :]
    cards = [entry.room[n] for n in sorted(n for _, n in newer)]
    gone = [n for n, at in entry.left.items() if at > since]
    return f'{entry.common},"ideas":{json.dumps(cards, separators=(",", ":"))},"gone":{json.dumps(gone)}}}'


def personal_json(entry: _Entry, participant_id: int | None) -> str:
    """What only this participant sees (their cards and dots), as JSON; "null" for no one."""
    if participant_id is None:
        return "null"
    if entry.personal is None:
        with entry.lock:
            if entry.personal is None:
                entry.personal = {
                    pid: json.dumps(view, separators=(",", ":"))
                    for pid, view in rules.personal_views(entry.snap).items()
                }
    return entry.personal.get(participant_id) or json.dumps(rules.personal_view(entry.snap, participant_id))


def _payload_from(entry: _Entry, audience: str, participant_id: int | None) -> str:
    shared, me = shared_json(entry, audience), personal_json(entry, participant_id)
    return f'{{"server_now":{epoch_ms(utcnow())},"revision":{entry.revision},"view":{shared},"me":{me}}}'


def stream_payload(
    app: Any, session_id: int, code: str, revision: int, audience: str, participant_id: int | None
) -> tuple[str, int, bool] | None:
    """For a live stream, outside any request: (state JSON, its revision, whether the session
    has ended), or None if the session is gone."""
    entry = stream_entry(app, session_id, code, revision)
    if entry is None:
        return None
    return _payload_from(entry, audience, participant_id), entry.revision, entry.snap.session["ended"]


def stream_entry(app: Any, session_id: int, code: str, revision: int) -> _Entry | None:
    """For a live stream, outside any request: the state at `revision` or newer, or None if the
    session is gone.

    When a revision moves, every open stream in this process wants it at once. One of them reads
    it, the others wait for that and share it, holding no database connection while they wait:
    a stream holds none except while it reads, so the pool stays free for the requests that write."""
    key = (session_id, code)
    entry = _cached(key, revision)
    if entry is None:
        with _cache_lock:
            building = _building.setdefault(key, threading.Lock())
        with building:
            entry = _cached(key, revision)
            if entry is None:
                with app.app_context():
                    ws = db.session.get(WorkshopSession, session_id)
                    if ws is None:
                        return None
                    entry = _store(key, _Entry(ws.revision, load_snapshot(ws)))
                    db.session.remove()
    return entry


def current_revision(session_id: int) -> int | None:
    return db.session.scalar(select(WorkshopSession.revision).where(WorkshopSession.id == session_id))


def revisions(session_ids: list[int]) -> dict[int, int]:
    """The revisions of several sessions in one query: what the live channel polls."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(WorkshopSession.id, WorkshopSession.revision).where(WorkshopSession.id.in_(session_ids))
    )
    return dict(rows.all())


def idea_counts(session_ids: list[int]) -> dict[int, int]:
    """How many cards each session has, for a list of sessions, in one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Idea.session_id, func.count()).where(Idea.session_id.in_(session_ids)).group_by(Idea.session_id)
    )
    return dict(rows.all())


def item_names(plan_id: int, ideas: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """The current names of the plan items these cards became, keyed by (entity, key): one
    query per kind of item among them. Read fresh, not cached with the session's state: an
    item is renamed in the plan without the session's revision moving. An item deleted since
    is missing."""
    keys: dict[str, set[str]] = {}
    for idea in ideas:
        if idea["promoted_entity"] in ITEM_MODELS and idea["promoted_key"]:
            keys.setdefault(idea["promoted_entity"], set()).add(idea["promoted_key"])
    names: dict[tuple[str, str], str] = {}
    for entity_name, wanted in keys.items():
        model = ITEM_MODELS[entity_name]
        title = getattr(model, ENTITY_BY_NAME[entity_name].title_field)
        rows = db.session.execute(select(model.key, title).where(model.plan_id == plan_id, model.key.in_(wanted)))
        names.update({(entity_name, key): name for key, name in rows})
    return names


def summary(ws: WorkshopSession) -> dict[str, Any]:
    """What the session came to (`rules.summary`), with the plan items by their current names."""
    snap = snapshot(ws)
    return rules.summary(snap, item_names(ws.plan_id, snap.ideas))
