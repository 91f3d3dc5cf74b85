"""The live channel: how a change reaches every screen within a second or two.

The database is the only source of truth. Every write moves the session's `revision` on.
A screen holds the revision it last drew and asks for anything newer, in one of two ways:

* **Server-Sent Events** (`/workshop/<code>/events`): a plain HTTP response that stays open.
  In each app process one watcher thread polls the revisions of the sessions that someone in
  that process is waiting on, every `WORKSHOP_POLL_SECONDS`, in one small query, and wakes the
  waiting streams when one moves; writes made by the same process wake them at once. A stream
  sends the new state, a keep-alive comment when nothing happens, and ends after
  `WORKSHOP_STREAM_SECONDS` so that threads are recycled; the browser reconnects with
  `Last-Event-ID` and misses nothing, because the next state is the whole state.
* **Polling** (`/workshop/<code>/state?since=N`): 204 when nothing changed. The page falls back
  to it when streaming fails or a proxy buffers it.

No process holds anything the others need, so any number of processes behind any load
balancer serve any participant, with SQLite (one process) or PostgreSQL. See docs/workshop.md.

Open streams are counted per process, and capped: per viewer (a participant, a facilitator's
account, a session's projector link: `WORKSHOP_STREAMS_PER_PARTICIPANT`), per session
(`WORKSHOP_STREAMS_PER_SESSION`) and per process (`WORKSHOP_STREAMS_PER_PROCESS`, which
gunicorn.conf.py sets below its thread count, so that streams never take the threads that
requests need). Past a cap a stream ends with a `closed` event: the viewer's oldest, or past the
session's or process's cap the oldest of the viewer holding the most (a participant's while
there is one, never the console's or the projector link's then); the page then polls and
streams again later. The caps hold per process: with N processes a viewer can hold at most N
times the cap.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event

from planner.extensions import db
from planner.models import utcnow

log = logging.getLogger(__name__)

GONE = -1  # the session no longer exists
# How long a page whose stream was closed for being past a cap polls before streaming again.
CLOSED_RETRY_MS = 60_000


class Ticket:
    """One open stream, as the watcher counts it: whose it is, whether a cap closed it, and for a
    phone, what it last heard (`pace`) and when it may hear new cards and dots again (`due`)."""

    __slots__ = ("closed", "code", "due", "napping", "pace", "phone", "session_id", "viewer", "wake")

    def __init__(self, session_id: int, viewer: tuple[str, int | str], code: str = "", phone: bool = False) -> None:
        self.session_id = session_id
        self.viewer = viewer
        self.code = code
        self.closed: str | None = None  # why a cap ended this stream
        # Each stream waits on an event of its own: a room's hundreds of streams woken at once
        # then do not queue, one after another, for the one lock of a shared condition.
        self.wake = threading.Event()
        # A phone's stream is woken for a new revision only once its gap has passed (`due`), or
        # at once when what it must hear at once (`rules.pace`) moved on from what it last sent.
        self.phone = phone
        self.due = 0.0
        self.pace: str | None = None  # none sent yet: the first state goes at once
        self.napping = False  # asleep until `due`, knowing of a newer revision already


class Watcher:
    """One per process: polls the revisions of watched sessions and wakes their streams."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get("WORKSHOP_POLL_SECONDS", 0.3))
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self.waiting: dict[int, set[Ticket]] = {}  # session id -> the streams waiting on it
        self.known: dict[int, int] = {}  # session id -> latest revision seen
        self.thread: threading.Thread | None = None
        self.notified_at = 0.0
        self.pending = False  # a poke arrived too soon after the last wake-up
        self.poked_at: dict[int, float] = {}  # session id -> when this process last committed to it
        self.streams: dict[Ticket, None] = {}  # the open streams, oldest first
        self.open_in: dict[int, int] = {}  # session id -> how many streams are open on it
        # session id -> (revision, pace) of the newest state this process built: whether a
        # phone must hear a new revision at once (Ticket.pace), without waking it to find out.
        self.paces: dict[int, tuple[int, str]] = {}

    def open(self, session_id: int, viewer: tuple[str, int | str], code: str = "", phone: bool = False) -> Ticket:
        """Count a new stream in. Past a cap, the oldest stream of the viewer, of the session or
        of the process ends: a new tab or a reconnecting phone always gets the stream it asks for."""
        config = self.app.config
        per_viewer = int(config.get("WORKSHOP_STREAMS_PER_PARTICIPANT", 4))
        per_session = int(config.get("WORKSHOP_STREAMS_PER_SESSION", 1200))
        per_process = int(config.get("WORKSHOP_STREAMS_PER_PROCESS", 0))  # 0: no ceiling
        ticket = Ticket(session_id, viewer, code, phone)
        with self.cond:
            self.streams[ticket] = None
            self.open_in[session_id] = self.open_in.get(session_id, 0) + 1
            closed = self._close_oldest(
                lambda t: t.viewer == viewer and t.session_id == session_id, per_viewer, "viewer"
            )
            closed |= self._close_fairly(lambda t: t.session_id == session_id, per_session, "session")
            closed |= self._close_fairly(lambda t: True, per_process, "server")
        return ticket

    def _close_fairly(self, mine: Callable[[Ticket], bool], cap: int, reason: str) -> bool:
        """Past a session's or the process's cap: the oldest stream of the viewer holding the most,
        and a participant's while there is one, so the console and the projector keep theirs."""
        if cap <= 0:
            return False
        alive = [t for t in self.streams if t.closed is None and mine(t)]
        over = len(alive) - cap
        for _ in range(over):
            pool = [t for t in alive if t.viewer[0] == "participant"] or alive
            held = Counter(t.viewer for t in pool)
            most = max(held.values())
            victim = next(t for t in pool if held[t.viewer] == most)  # oldest first
            victim.closed = reason
            victim.wake.set()
            alive.remove(victim)
        return over > 0

    def _close_oldest(self, mine: Callable[[Ticket], bool], cap: int, reason: str) -> bool:
        if cap <= 0:
            return False
        alive = [t for t in self.streams if t.closed is None and mine(t)]
        for ticket in alive[: max(0, len(alive) - cap)]:
            ticket.closed = reason
            ticket.wake.set()
        return len(alive) > cap

    def close(self, ticket: Ticket) -> None:
        with self.cond:
            if self.streams.pop(ticket, False) is None:
                self.open_in[ticket.session_id] -= 1
                if not self.open_in[ticket.session_id]:
                    del self.open_in[ticket.session_id]

    def wait(self, session_id: int, since: int, timeout: float, ticket: Ticket | None = None) -> int | None:
        """Block until the session's revision passes `since`, or `timeout` seconds go by, or a cap
        closes `ticket`. Returns the newest revision known (which may still be `since`), or None
        if the session is gone."""
        deadline = time.monotonic() + timeout
        if ticket is None:
            ticket = Ticket(session_id, ("waiting", 0))
        wake = ticket.wake
        with self.cond:
            self.waiting.setdefault(session_id, set()).add(ticket)
            self._ensure_thread()
            self.cond.notify_all()  # an idle watcher thread waits on this: start polling now
        try:
            while True:
                wake.clear()  # before looking: a wake-up from now on is not lost
                if ticket.closed:
                    return since
                known = self.known.get(session_id)
                if known == GONE:
                    return None
                now = time.monotonic()
                remaining = deadline - now
                ticket.napping = False
                if known is not None and known > since:
                    if self._wanted(ticket, now):
                        return known
                    # A phone within its gap, and nothing it must hear at once: sleep until its
                    # turn (or its deadline), unless the watcher wakes it for something urgent.
                    remaining = min(remaining, ticket.due - now)
                    ticket.napping = True
                if remaining <= 0:
                    return since
                wake.wait(remaining)
        finally:
            with self.cond:
                waiting = self.waiting.get(session_id, set())
                waiting.discard(ticket)
                if not waiting:
                    self.waiting.pop(session_id, None)
                    self.known.pop(session_id, None)
                    self.poked_at.pop(session_id, None)
                    self.paces.pop(session_id, None)

    def _wanted(self, ticket: Ticket, now: float) -> bool:
        """Whether a stream wants the session's newest revision now: a screen always; a phone once
        its gap has passed, or when the room moved on in what a phone must hear at once."""
        if not ticket.phone or ticket.pace is None or now >= ticket.due:
            return True
        newest = self.paces.get(ticket.session_id)
        return newest is not None and newest[1] != ticket.pace

    def poke(self, session_id: int, revision: int) -> None:
        """This process just committed `revision`: wake its streams without waiting for a poll,
        unless they were woken less than one poll interval ago. Then the next poll wakes them:
        while a room of 150 types, each process builds a few states a second, not one per card."""
        with self.cond:
            if session_id not in self.waiting:
                return
            self.poked_at[session_id] = time.monotonic()
            if revision > self.known.get(session_id, 0):
                self.known[session_id] = revision
                self._notify(soon=True)

    def _notify(self, soon: bool = False) -> None:
        """Wake the streams (the caller holds `cond`), at most once per interval when `soon`."""
        now = time.monotonic()
        if soon and now - self.notified_at < self.interval:
            self.pending = True
            return
        self.notified_at, self.pending = now, False
        for waiting in self.waiting.values():
            for ticket in waiting:
                # A phone asleep until its turn stays asleep (in a room of 1,000, waking them all
                # for each card kept the process busy); one that does not know of a newer
                # revision yet is woken once, to set its alarm for its turn.
                if not ticket.napping or self._wanted(ticket, now):
                    ticket.wake.set()

    def _ensure_thread(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="workshop-watcher", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        from planner.workshop.state import revisions

        while True:
            with self.cond:
                if not self.waiting:
                    # Nobody is waiting: stay a little in case a stream reconnects, then stop.
                    self.cond.wait(5)
                    if not self.waiting:
                        self.thread = None
                        return
                ids = list(self.waiting)
            asked_at = time.monotonic()
            try:
                with self.app.app_context():
                    found = revisions(ids)
                    db.session.remove()
            except Exception:  # a blip in the database must not kill the channel
                log.exception("workshop watcher could not read revisions")
                time.sleep(1)
                continue
            with self.cond:
                changed = False
                for session_id in ids:
                    new = found.get(session_id, GONE)
                    old = self.known.get(session_id)
                    # A read begun after this process's last commit to the session is the truth,
                    # even when lower than what is known: SQLite hands a deleted session's id to
                    # the next one, whose revisions start again from 1. Streams would otherwise
                    # see "newer" forever and resend the same state in a tight loop. An older
                    # read may have missed a poke, so it only ever moves the revision on.
                    fresh = asked_at > self.poked_at.get(session_id, 0.0)
                    if old is None or new == GONE or new > old or (fresh and new != old):
                        self.known[session_id] = new
                        changed = changed or new != old
                if changed or self.pending:
                    self._notify()
            # Then the pace of what was found: phones asleep within their gap are woken now if
            # the room moved on in what they must hear at once.
            if self._pace(ids):
                with self.cond:
                    self._notify()
            time.sleep(self.interval)

    def _pace(self, ids: list[int]) -> bool:
        """For each session with phones waiting within their gap, the pace of its newest revision
        (built once per revision per process, as the streams would build it): whether it moved,
        so that those phones are woken for what they must hear at once, and only then."""
        from planner.workshop.state import stream_entry

        moved = False
        for session_id in ids:
            with self.cond:
                known = self.known.get(session_id)
                held = self.paces.get(session_id)
                phones = [t for t in self.waiting.get(session_id, ()) if t.phone and t.pace is not None]
            if not phones or known is None or known == GONE or (held is not None and held[0] >= known):
                continue
            try:
                entry = stream_entry(self.app, session_id, phones[0].code, known)
            except Exception:  # as for the revisions: the next poll tries again
                log.exception("workshop watcher could not read a session's state")
                continue
            if entry is None:
                continue
            with self.cond:
                self.paces[session_id] = (entry.revision, entry.pace)
            moved = moved or held is None or held[1] != entry.pace
        return moved


_watchers_lock = threading.Lock()


def watcher(app: Flask) -> Watcher:
    with _watchers_lock:
        found = app.extensions.get("workshop_watcher")
        # A forked worker inherits the parent's object but not its thread: start afresh.
        if found is None or found.pid != os.getpid():
            found = app.extensions["workshop_watcher"] = Watcher(app)
        return found


def poke(session_id: int, revision: int) -> None:
    found = current_app.extensions.get("workshop_watcher")
    if found is not None and found.pid == os.getpid():
        found.poke(session_id, revision)


_PENDING = "workshop.wake_after_commit"


def after_commit(session_id: int, revision: int) -> None:
    """Wake this process's streams on `revision` once the transaction now open commits, and
    never if it rolls back: a stream must not draw a state that was never kept. A request
    commits once at its end (planner/unit.py), after the service that wrote has returned."""
    found = current_app.extensions.get("workshop_watcher")
    if found is None or found.pid != os.getpid():
        return  # nobody streams from this process: its watcher's poll is enough
    pending = db.session.info.setdefault(_PENDING, {})
    pending[(found, session_id)] = max(revision, pending.get((found, session_id), 0))


@event.listens_for(db.session, "after_commit")
def _wake_committed(session: Any) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (a retried save inside the unit): nothing is kept yet
    for (found, session_id), revision in session.info.pop(_PENDING, {}).items():
        found.poke(session_id, revision)


@event.listens_for(db.session, "after_transaction_end")
def _forget_rolled_back(session: Any, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended without a commit: no wake-up
        session.info.pop(_PENDING, None)


def event_stream(
    app: Flask,
    session_id: int,
    code: str,
    audience: str,
    participant_id: int | None,
    since: int,
    viewer: tuple[str, int | str] | None = None,
    changes: bool = False,
    held_from: str = "",
) -> Iterator[str | bytes]:
    """The body of an SSE response: a `hello` at once (the page uses it to tell whether a proxy
    is buffering), then a `state` event for each new revision, and a `ping` when nothing happened for a while
    (so that the page can tell a live stream from a dead one). `viewer` is whose stream it is,
    for the caps (`Watcher.open`); a stream a cap closes ends with a `closed` event.

    With `changes` (a phone's page asks for them), a state after the first may carry only
    what changed since the state before (`state.changes_json`): its data then says `base`,
    the revision it follows, and its view's `ideas` are the new and changed cards, `gone` the
    numbers of those that left. In a room of 1,000 that is a few kilobytes, not the whole room.
    Such a stream's event ids also name this process's run of states (`revision-run`,
    `state.run`): two processes may have read one revision at different moments, so changes
    are only ever sent against a state this very process sent (`held_from`, from the
    reconnecting browser's `Last-Event-ID`). Otherwise the first state is whole."""
    watch = watcher(app)
    ticket = watch.open(session_id, viewer or ("participant", participant_id or 0), code, participant_id is not None)
    try:
        yield from _events(app, watch, ticket, code, audience, participant_id, since, changes, held_from)
    finally:
        watch.close(ticket)


def _frame(entry: Any, audience: str, run: str = "") -> bytes:
    """The start of a `state` event for everyone of `audience`, as bytes, made once per revision
    per process: each stream writes these very bytes, then its own short ending (`_ending`).
    `run`: this process's run of states, named in the event's id (a changes stream's)."""
    frame = entry.frames.get((audience, run))
    if frame is None:
        from planner.workshop.state import shared_json

        shared = shared_json(entry, audience)
        tag = f"{entry.revision}-{run}" if run else entry.revision
        frame = f'id: {tag}\nevent: state\ndata: {{"revision":{entry.revision},"view":{shared},"me":'
        frame = entry.frames.setdefault((audience, run), frame.encode())
    return frame


def _changes_frame(entry: Any, since: int, run: str) -> bytes | None:
    """The start of a `state` event carrying the room's changes since `since`, as bytes, made
    once per entry and `since`: a room's phones mostly hold the same state before."""
    frame = entry.changes.get(since)
    if frame is None:
        from planner.workshop.state import changes_json

        view = changes_json(entry, since)
        if view is None:
            return None
        text = f'id: {entry.revision}-{run}\nevent: state\ndata: {{"revision":{entry.revision},"base":{since},'
        frame = entry.changes.setdefault(since, f'{text}"view":{view},"me":'.encode())
    return frame


def _ending(entry: Any, participant_id: int | None) -> bytes:
    from planner.workshop.state import epoch_ms, personal_json

    me = personal_json(entry, participant_id)
    return f'{me},"server_now":{epoch_ms(utcnow())}}}\n\n'.encode()


def _closed(ticket: Ticket) -> str:
    data = json.dumps({"reason": ticket.closed, "retry_ms": CLOSED_RETRY_MS})
    return f"event: closed\ndata: {data}\n\n"


def _events(
    app: Flask,
    watch: Watcher,
    ticket: Ticket,
    code: str,
    audience: str,
    participant_id: int | None,
    since: int,
    changes: bool = False,
    held_from: str = "",
) -> Iterator[str | bytes]:
    from planner.workshop.state import run_of_states, stream_entry

    run = run_of_states() if changes else ""

    session_id = ticket.session_id

    live_for = float(app.config.get("WORKSHOP_STREAM_SECONDS", 45))
    # A phone needs the room within a second or two, not every intermediate revision: while 150
    # people type, a participant's stream sends new cards and dots at most once per gap. What
    # the phone must hear at once (`rules.pace`: the room's step, voting, the timer, the end)
    # goes at once. The projector and the console get every revision the watcher sees. In a
    # big room the gap grows with it: each process sends the phones of one session at most
    # `WORKSHOP_PHONE_STATES_PER_SECOND` states a second in all (a room of 1,000 on two
    # processes: one state every 2.5 s per phone), so that sending states does not crowd out
    # the requests that write.
    base_gap = float(app.config.get("WORKSHOP_PARTICIPANT_GAP_SECONDS", 1.0))
    per_second = float(app.config.get("WORKSHOP_PHONE_STATES_PER_SECOND", 200))
    last_sent = 0.0
    sent_pace: str | None = None
    heartbeat = float(app.config.get("WORKSHOP_HEARTBEAT_SECONDS", 15))
    deadline = time.monotonic() + live_for
    yield f"retry: 1000\nevent: hello\ndata: {since}\n\n"
    revision = since  # what the screen holds
    held = 0  # a newer revision not sent yet: only cards or dots moved, within the phone's gap
    gap = base_gap
    while (remaining := deadline - time.monotonic()) > 0:
        wait_for = min(heartbeat, remaining)
        if held:
            wait_for = min(wait_for, max(0.0, last_sent + gap - time.monotonic()))
        newest = watch.wait(session_id, max(revision, held), wait_for, ticket)
        if ticket.closed:
            yield _closed(ticket)
            return
        if newest is None:
            yield "event: gone\ndata: {}\n\n"
            return
        if newest <= max(revision, held):
            if not held:
                yield "event: ping\ndata: \n\n"
                continue
            if time.monotonic() < last_sent + gap:
                continue
            newest = held  # the gap has passed: send what was held back (or newer)
        entry = stream_entry(app, session_id, code, newest)
        if entry is None:
            yield "event: gone\ndata: {}\n\n"
            return
        built = entry.revision
        if built <= revision:
            # The watcher's number ran ahead of the database (see Watcher._run): nothing new.
            # Don't resend this state in a tight loop; the next poll puts the number right.
            held = 0
            time.sleep(watch.interval)
            continue
        if participant_id is not None:
            gap = max(base_gap, watch.open_in.get(session_id, 0) / per_second)
            if entry.pace == sent_pace and time.monotonic() < last_sent + gap:
                held = built  # only cards and dots: they wait for the phone's turn
                continue
        frame = _changes_frame(entry, revision, run) if changes and held_from == run and revision > 0 else None
        held, revision, sent_pace, held_from = 0, built, entry.pace, run
        last_sent = time.monotonic()
        if participant_id is not None:
            ticket.pace, ticket.due = entry.pace, last_sent + gap
        # The same bytes object for every stream of the room (or every phone that held the same state).
        yield frame or _frame(entry, audience, run)
        yield _ending(entry, participant_id)
        if entry.snap.session["ended"]:
            return
