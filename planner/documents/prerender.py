"""Drawing each plan's PDF before anyone asks for it, so that a download is a file read.

A PDF takes seconds to draw (tens of seconds for a large plan), and it changes with every edit.
So, once a plan's edits settle (`PDF_SETTLE_SECONDS` with no new revision), a background worker
draws its PDF into the cache (`planner/documents/cache.py`), under the key a download would ask
for.  A download of a plan nobody is changing right now then finds it there.  Someone who asks
while no PDF is ready (`state`, behind the status endpoint the download button polls)
leaves a *wanted mark*, and the worker draws that PDF next, settled or not.  So does a download
that finds no PDF (`wait_for`): it waits a few seconds, not the whole render.  The worker draws
wanted PDFs even with `PDF_PRERENDER` off (`background`); only drawing ahead stops.

Several app processes (gunicorn's workers) may share one database and one cache directory, and
none of them decides anything from its own memory:

- what to draw comes from the database (each plan's `updated_at`, moved by every write) and
  from the cache directory (the PDFs there, the wanted marks);
- one sweep at a time per cache directory (a non-blocking lock file), so a machine draws one
  PDF ahead at a time, in the render process, and the other processes keep serving pages;
- a plan's PDF is drawn under that plan's lock file, which the download route takes too: a
  revision is drawn once, by whoever gets there first, and the others read its file.

A PDF that cannot be drawn within the render limits (`planner/documents/render.py`), or at all,
gets a failure mark in the cache directory instead: no process draws that revision again, and
a download of it says so at once (`state`).  A plan whose latest failed revision was too long to
print (`PdfCache.too_long`) is not drawn ahead at its next revisions either: only when someone
asks for its PDF, until one is drawn.

Each process starts its worker thread with its first request (`ensure_worker`), never at import:
a thread started before gunicorn forks would not exist in the workers.  With
`PDF_PRERENDER_POLL_SECONDS = 0` no thread starts, and the caller drives `sweep` itself (tests).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from flask import Flask, current_app
from sqlalchemy import select

from planner.documents import cache
from planner.documents.render import PdfTooLong, render_pdf, use_render_process
from planner.extensions import db
from planner.models import Plan, utcnow
from planner.plans import store
from planner.unit import unit_of_work

log = logging.getLogger(__name__)

READY, DRAWING = "ready", "drawing"  # a `state`, besides the failures of `cache.FAILURES`


def enabled(app: Flask) -> bool:
    """Whether PDFs are drawn ahead, once edits settle (`PDF_PRERENDER`, and a cache to keep them)."""
    return bool(app.config.get("PDF_PRERENDER")) and cache.pdf_cache(app) is not None


def background(app: Flask) -> bool:
    """Whether a worker draws the PDFs that downloads wait for: whenever there is a cache and a
    worker (`PDF_PRERENDER_POLL_SECONDS`), even with drawing ahead off, so that no download has
    to hold its request open for a whole render.  (With `PDF_PRERENDER` and no poll, tests drive
    `sweep` themselves.)"""
    if cache.pdf_cache(app) is None:
        return False
    return enabled(app) or float(app.config.get("PDF_PRERENDER_POLL_SECONDS", 0)) > 0


def state(plan: Any, today: date) -> str:
    """Whether `plan`'s PDF for `today` is READY to download at once, still DRAWING, or could not
    be drawn: then the failure ("time", "memory", "error").

    When it is neither ready nor failed, the PDF is marked as wanted, so that a worker draws it
    next.  With no background drawing (or no cache), there is nothing to wait for: the download
    draws it, so it is READY unless it is known to have failed.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pdfs = cache.pdf_cache(app)
    if pdfs is None:
        return READY
    key = cache.document_key(plan, today)
    if pdfs.has(key):
        return READY  # a whole PDF is what the download sends, whatever mark lies beside it
    if failure := pdfs.failure(key):
        return failure
    if not background(app):
        return READY
    pdfs.want(key)
    wake(app)
    return DRAWING


def wait_for(pdfs: cache.PdfCache, key: str, seconds: float) -> BinaryIO | str | None:
    """The PDF for `key`, open, once a worker has drawn it; or its failure; or None after
    `seconds` with neither.  Marks it as wanted first, so that a worker draws it next."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    deadline = time.monotonic() + seconds
    pause = 0.05
    while True:
        if (fh := pdfs.open(key)) is not None:
            return fh
        if failure := pdfs.failure(key):
            return failure
        if time.monotonic() >= deadline:
            return None
        pdfs.want(key)  # again each time: a worker that saw an older revision dropped the mark
        wake(app)
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)


def _candidates(
    pdfs: cache.PdfCache, now: datetime, settle: float, days: float, version: str, *, ahead: bool = True
) -> list[int]:
    """Plans whose PDF for today is not stored: the waited-for ones, then (`ahead`) the settled
    ones, newest edit first.  One query, and a look in the directory per plan, every sweep."""
    wanted = []
    for key in pdfs.wanted():
        plan_id = cache.plan_id_of(key)
        if plan_id not in wanted:
            wanted.append(plan_id)
    if not ahead:
        return wanted
    today = date.today()
    settled = db.session.execute(
        select(Plan.id, Plan.revision, Plan.created_at, Plan.updated_at)
        .where(Plan.updated_at <= now - timedelta(seconds=settle), Plan.updated_at >= now - timedelta(days=days))
        .order_by(Plan.updated_at.desc())
    ).all()
    missing = [
        row.id
        for row in settled
        # A plan too long to print last time is drawn when someone asks for it, never ahead: its
        # render would take minutes of CPU, holding the sweep every other plan waits on.
        if not pdfs.path(cache.document_key(row, today, version=version)).exists() and not pdfs.too_long(row.id)
    ]
    return wanted + [plan_id for plan_id in missing if plan_id not in wanted]


def sweep(app: Flask, *, now: datetime | None = None) -> str | None:
    """Draw the first PDF that should be drawn and is not; returns its key, or None if none was.

    `now` (UTC, as `updated_at` is stored) decides which plans have settled.  Nothing happens
    when another process is sweeping the same cache directory.
    """
    pdfs = cache.pdf_cache(app)
    if pdfs is None or not background(app):
        return None
    with pdfs.try_sweeping() as mine:
        if not mine:
            return None
        # A unit of work each, as a request is one: the sweep only reads today, and whatever it
        # may come to write is kept whole or not at all.
        with app.app_context(), unit_of_work():
            settle = float(app.config.get("PDF_SETTLE_SECONDS", 20))
            days = float(app.config.get("PDF_PRERENDER_DAYS", 7))
            # Once per sweep: in debug mode the code's hash is taken anew at every call.
            version = cache.code_version(app)
            candidates = _candidates(pdfs, now or utcnow(), settle, days, version, ahead=enabled(app))
        for plan_id in candidates:
            with app.app_context(), unit_of_work():  # one per plan: its connection goes back to the pool after
                key = _draw_if_missing(pdfs, plan_id, version)
            if key:
                return key
    return None


def _draw_if_missing(pdfs: cache.PdfCache, plan_id: int, version: str) -> str | None:
    """Draw the plan's PDF for today if it is not stored and nobody is drawing it."""
    plan = db.session.get(Plan, plan_id)
    marks = [key for key in pdfs.wanted() if cache.plan_id_of(key) == plan_id]
    if plan is None:
        for mark in marks:
            pdfs.unwant(mark)
        return None
    today = date.today()
    key = cache.document_key(plan, today, version=version)
    for mark in marks:
        if mark != key:  # asked for an older revision: whoever waits asks again for this one
            pdfs.unwant(mark)
    if pdfs.failure(key) or pdfs.has(key):
        pdfs.unwant(key)
        return None
    with pdfs.try_rendering(plan_id) as mine:
        if not mine or pdfs.has(key):
            return None  # being drawn by a download or another process, or just drawn
        doc = store.load_doc(plan)
        db.session.expire(plan)
        if cache.document_key(plan, today, version=version) != key:
            return None  # edited while it was read: not settled after all
        db.session.rollback()  # no connection held while drawing
        started = time.monotonic()
        try:
            pdf = render_pdf(doc, today=today, separate_process=use_render_process())
        except PdfTooLong as error:
            log.warning(
                "the PDF of plan %s (key %s) is too long to draw: it reached the %s limit after %.1f s",
                plan_id,
                key,
                error.limit,
                time.monotonic() - started,
            )
            pdfs.fail(key, error.limit)
            pdfs.unwant(key)
            return None
        except Exception:
            log.exception("could not draw the PDF of plan %s in the background", plan_id)
            pdfs.fail(key, "error")
            pdfs.unwant(key)
            return None
        pdfs.put(key, pdf).close()
    pdfs.unwant(key)
    log.info("drew the PDF of plan %s ahead in %.1f s", plan_id, time.monotonic() - started)
    return key


# ---------------------------------------------------------------- the worker thread


class Worker:
    """This process's background thread: sweeps every `poll` seconds, or at once when woken."""

    def __init__(self, app: Flask, poll: float) -> None:
        self.app, self.poll, self.pid = app, poll, os.getpid()
        self.woken = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pdf-prerender", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                drew = sweep(self.app)
            except Exception:  # a blip in the database or the disk must not end the worker
                log.exception("the background PDF sweep failed")
                drew = None
            if drew is None:  # after a PDF, look again at once: others may be waiting
                self.woken.wait(self.poll)
                self.woken.clear()

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()

    def stop(self, timeout: float = 30) -> None:
        """End the thread (after the PDF it may be drawing) and wait for it."""
        self.stopping.set()
        self.woken.set()
        if self.thread.is_alive():
            self.thread.join(timeout)


_workers_lock = threading.Lock()
_EXTENSION = "pdf_prerender_worker"


def ensure_worker(app: Flask) -> Worker | None:
    """Start this process's worker if it should run and is not running (called per request)."""
    worker = app.extensions.get(_EXTENSION)
    if worker is not None and worker.alive():
        return worker
    poll = float(app.config.get("PDF_PRERENDER_POLL_SECONDS", 0))
    if poll <= 0 or not background(app):
        return None
    with _workers_lock:
        worker = app.extensions.get(_EXTENSION)
        # A forked process inherits the parent's object but not its thread: start afresh.
        if worker is None or not worker.alive():
            worker = app.extensions[_EXTENSION] = Worker(app, poll)
            worker.thread.start()
    return worker


def wake(app: Flask) -> None:
    """Ask this process's worker to sweep now rather than at its next poll."""
    worker = app.extensions.get(_EXTENSION)
    if worker is not None and worker.alive():
        worker.woken.set()


def stop_worker(app: Flask) -> None:
    worker = app.extensions.pop(_EXTENSION, None)
    if worker is not None:
        worker.stop()
