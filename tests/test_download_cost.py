"""A PDF already drawn costs about what a static file costs: what its download does, counted.

Its time is measured in `bench/pdf_ready.py` (at most 1.5x a static file of the same bytes,
docs/performance.md), not here: a timed test fails on a busy machine and passes on a slow
change.  What is counted here is what the time is made of, and stays the same from run to run:
the statements sent to the database (one: the person, their log-in session, the plan and their
membership, `tests/test_query_counts.py`) and the look-ups on disk (one: the PDF, opened).  The
access check comes first, whatever the cache holds (`tests/test_pdf_cache.py`, `test_roles.py`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.documents import cache, prerender, routes
from planner.extensions import db
from planner.plans import store
from tests.test_query_counts import counting_queries


def stand_in_pdf(doc: dict[str, Any], **kwargs: Any) -> bytes:
    """Shaped like a PDF (header and end marker), quick to make."""
    return b"%PDF-1.7\n" + json.dumps(doc["title"]).encode() + b"\n%%EOF\n"


@pytest.fixture
def cache_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "pdf-cache"
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(directory))
    monkeypatch.setattr(routes, "render_pdf", stand_in_pdf)
    monkeypatch.setattr(prerender, "render_pdf", stand_in_pdf)
    return directory


@pytest.fixture(params=["drawn in the request", "drawn ahead"])
def drawing(request: pytest.FixtureRequest, app: Flask, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Either way a PDF gets into the cache: by the first download, or by the background (on,
    with no thread: `prerender.sweep` is called here)."""
    if request.param == "drawn ahead":
        monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
        monkeypatch.setitem(app.config, "PDF_PRERENDER_POLL_SECONDS", 0.0)
    return str(request.param)


@pytest.fixture
def plan(ctx: Flask, owner: Any, add_member: Any) -> Any:
    plan = store.create_plan("Harbour plan")
    add_member(plan, owner)
    return plan


def draw(app: Flask, client: FlaskClient, plan: Any, drawing: str) -> bytes:
    """The plan's PDF, drawn into the cache `drawing`'s way; its bytes."""
    if drawing == "drawn ahead":
        db.session.refresh(plan)
        settled = plan.updated_at + timedelta(seconds=float(app.config["PDF_SETTLE_SECONDS"]) + 1)
        assert prerender.sweep(app, now=settled) is not None
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        assert response.status_code == 200, response.status
        return response.get_data()


@contextmanager
def disk_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file this process opens, stats or resolves meanwhile (open files' fstat aside)."""
    seen: list[str] = []
    with monkeypatch.context() as patch:
        for name in ("open", "stat", "lstat"):
            real = getattr(os, name)

            def spy(path: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                seen.append(f"{_name} {os.fsdecode(path) if not isinstance(path, int) else path}")
                return _real(path, *args, **kwargs)

            patch.setattr(os, name, spy)
        yield seen


def test_a_drawn_pdf_is_downloaded_with_one_query_and_one_file_opened(
    app: Flask, client: FlaskClient, plan: Any, cache_dir: Path, drawing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A download of a drawn PDF opens that file and sends it: no failure marks looked for, no
    # waiting, no paths resolved (the cache's directory is resolved once per process).
    body = draw(app, client, plan, drawing)
    url, plan_id, engine = f"/plans/{plan.id}/document.pdf", plan.id, db.engine
    db.session.remove()  # the request reads for itself, in a session of its own
    with (
        counting_queries(engine) as statements,
        disk_lookups(monkeypatch) as lookups,
        client.get(url) as response,
    ):
        assert response.status_code == 200
        assert response.get_data() == body
    (pdf,) = cache_dir.glob(f"{plan_id}-*.pdf")
    assert lookups == [f"open {pdf}"]
    assert len(statements) == 1, statements


def test_a_drawn_pdf_is_sent_whatever_mark_lies_beside_it(
    app: Flask, client: FlaskClient, plan: Any, cache_dir: Path, drawing: str
) -> None:
    # A worker that still runs with a lower render limit than the one this PDF was drawn under
    # (an operator raised it; `test_pdf_cache`'s operator test) marks this revision too long to
    # print. The PDF itself is whole and of this very revision: the reader gets it, not a 422.
    body = draw(app, client, plan, drawing)
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        key = str(response.headers["ETag"]).strip('"')
    pdfs = cache.pdf_cache(app)
    assert pdfs is not None
    pdfs.fail(key, "time")
    assert pdfs.failure(key) == "time" and pdfs.has(key)
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        assert response.status_code == 200
        assert response.get_data() == body
        assert response.headers["Cache-Control"] == "private, no-cache"
    # And the download button, which asks first, says it is ready, as the link is.
    status = client.get(f"/plans/{plan.id}/document/pdf-status")
    assert status.status_code == 200, status.get_data(as_text=True)
    assert status.get_json()["ready"] is True and status.get_json()["failed"] is False
