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
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator

from flask import Flask, current_app

from planner.extensions import db

log = logging.getLogger(__name__)

GONE = -1  # the session no longer exists


class Watcher:
    """One per process: polls the revisions of watched sessions and wakes their streams."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get("WORKSHOP_POLL_SECONDS", 0.3))
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self.waiting: dict[int, int] = {}  # session id -> how many streams wait on it
        self.known: dict[int, int] = {}  # session id -> latest revision seen
        self.thread: threading.Thread | None = None
        self.notified_at = 0.0
        self.pending = False  # a poke arrived too soon after the last wake-up
        self.poked_at: dict[int, float] = {}  # session id -> when this process last committed to it

    def wait(self, session_id: int, since: int, timeout: float) -> int | None:
        """Block until the session's revision passes `since`, or `timeout` seconds go by.
        Returns the newest revision known (which may still be `since`), or None if the session is gone."""
        deadline = time.monotonic() + timeout
        with self.cond:
            self.waiting[session_id] = self.waiting.get(session_id, 0) + 1
            self._ensure_thread()
            self.cond.notify_all()  # an idle watcher thread waits on this too: start polling now
            try:
                while True:
                    known = self.known.get(session_id)
                    if known == GONE:
                        return None
                    if known is not None and known > since:
                        return known
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return since
                    self.cond.wait(remaining)
            finally:
                self.waiting[session_id] -= 1
                if not self.waiting[session_id]:
                    del self.waiting[session_id]
                    self.known.pop(session_id, None)
                    self.poked_at.pop(session_id, None)

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
        self.cond.notify_all()

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
            time.sleep(self.interval)


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


def event_stream(
    app: Flask, session_id: int, code: str, audience: str, participant_id: int | None, since: int
) -> Iterator[str]:
    """The body of an SSE response: a `hello` at once (the page uses it to tell whether a proxy
    is buffering), then a `state` event for each new revision, and a `ping` when nothing happened for a while
    (so that the page can tell a live stream from a dead one)."""
    from planner.workshop.state import stream_payload

    live_for = float(app.config.get("WORKSHOP_STREAM_SECONDS", 45))
    # A phone needs the room within a second or two, not every intermediate revision: while 150
    # people type, a participant's stream sends at most one state per `gap`. The projector and
    # the console get every revision the watcher sees.
    gap = 0.0 if participant_id is None else float(app.config.get("WORKSHOP_PARTICIPANT_GAP_SECONDS", 1.0))
    last_sent = 0.0
    heartbeat = float(app.config.get("WORKSHOP_HEARTBEAT_SECONDS", 15))
    watch = watcher(app)
    deadline = time.monotonic() + live_for
    yield f"retry: 1000\nevent: hello\ndata: {since}\n\n"
    revision = since
    while (remaining := deadline - time.monotonic()) > 0:
        newest = watch.wait(session_id, revision, min(heartbeat, remaining))
        if newest is None:
            yield "event: gone\ndata: {}\n\n"
            return
        if newest <= revision:
            yield "event: ping\ndata: \n\n"
            continue
        if (pause := last_sent + gap - time.monotonic()) > 0:
            time.sleep(pause)
        found = stream_payload(app, session_id, code, newest, audience, participant_id)
        if found is None:
            yield "event: gone\ndata: {}\n\n"
            return
        body, built, ended = found
        if built <= revision:
            # The watcher's number ran ahead of the database (see Watcher._run): nothing new.
            # Don't resend this state in a tight loop; the next poll puts the number right.
            time.sleep(watch.interval)
            continue
        revision = built
        last_sent = time.monotonic()
        yield f"id: {revision}\nevent: state\ndata: {body}\n\n"
        if ended:
            return
