"""The PDF cache: an unchanged plan's PDF is rendered once; any change to the plan makes a new one.

Each test gets its own cache directory.  The `renders` fixture stands in for WeasyPrint with a
small PDF-shaped file that holds the plan document it was given (as JSON), and records each
call, so a test sees at once whether a download was rendered and from what.  The tests that
read what a real PDF says use `real_renders`, which records and then renders for real.

The background worker (`prerender`) is driven by the tests: `drawn_ahead` switches it on with
no thread, and each test calls `prerender.sweep` with the moment it means.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from planner.documents import cache, prerender, routes
from planner.documents.cache import BadKey, PdfCache, document_key
from planner.documents.render import PdfTooLong
from planner.documents.word import DOCX_MIMETYPE
from planner.domain import ENTITY_BY_NAME
from planner.plans import store

GOAL = ENTITY_BY_NAME["goal"]


@dataclass
class Download:
    status: int
    headers: Any
    data: bytes

    @property
    def key(self) -> str:
        return str(self.headers["ETag"]).strip('"')

    @property
    def doc(self) -> dict[str, Any]:
        """The plan document a stand-in PDF (`renders`) was made from."""
        return json.loads(self.data.split(b"\n")[1])

    @property
    def text(self) -> str:
        """A real PDF's text, without whitespace: extraction breaks lines wherever the layout did."""
        pages = PdfReader(io.BytesIO(self.data)).pages
        return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def download(client: FlaskClient, plan: Any, **kwargs: Any) -> Download:
    # A cached PDF is sent from an open file: closing the response closes it.
    with client.get(f"/plans/{plan.id}/document.pdf", **kwargs) as response:
        return Download(response.status_code, response.headers, response.get_data())


def stand_in_pdf(doc: dict[str, Any]) -> bytes:
    """Shaped like a PDF (header and end marker) around the document it was made from."""
    return b"%PDF-1.7\n" + json.dumps(doc, sort_keys=True).encode() + b"\n%%EOF\n"


@pytest.fixture
def cache_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "pdf-cache"
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(directory))
    return directory


def _spy(monkeypatch: pytest.MonkeyPatch, render: Any) -> list[str]:
    titles: list[str] = []

    def spy(doc: dict[str, Any], **kwargs: Any) -> bytes:
        titles.append(doc["title"])
        return render(doc, **kwargs)

    monkeypatch.setattr(routes, "render_pdf", spy)
    monkeypatch.setattr(prerender, "render_pdf", spy)  # the background worker draws with it too
    return titles


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of each plan the route renders a PDF for (with the quick stand-in)."""
    return _spy(monkeypatch, lambda doc, **kwargs: stand_in_pdf(doc))


@pytest.fixture
def real_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of each plan the route renders a PDF for (with WeasyPrint)."""
    return _spy(monkeypatch, routes.render_pdf)


def docx_text(data: bytes) -> str:
    from docx import Document as open_docx

    document = open_docx(io.BytesIO(data))
    cells = (cell.text for table in document.tables for row in table.rows for cell in row.cells)
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def cached_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.pdf"))


@pytest.fixture
def new_plan(ctx: Flask, owner: Any, add_member: Any) -> Any:
    """Store a plan that `client`'s person may read."""

    def make(title: str) -> Any:
        plan = store.create_plan(title)
        add_member(plan, owner)
        return plan

    return make


@pytest.fixture
def plan(new_plan: Any) -> Any:
    plan = new_plan("Harbour plan")
    store.add_item(plan, GOAL, {"statement": "Anchor goal"})
    store.add_item(plan, GOAL, {"statement": "Buoy goal"})
    return plan


# ------------------------------------------------------------ unchanged: rendered once


@pytest.mark.pdf
def test_a_second_download_of_an_unchanged_plan_is_not_rendered_again(
    client: FlaskClient, plan: Any, cache_dir: Path, real_renders: list[str]
) -> None:
    first = download(client, plan)
    second = download(client, plan)
    assert real_renders == ["Harbour plan"]
    assert first.status == second.status == 200
    assert first.data.startswith(b"%PDF-")
    assert second.data == first.data
    assert second.key == first.key
    assert second.headers["Content-Type"] == "application/pdf"
    assert second.headers["Content-Disposition"] == "attachment; filename=harbour-plan.pdf"
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert int(second.headers["Content-Length"]) == len(first.data)
    assert cached_files(cache_dir) == [f"{first.key}.pdf"]


def test_without_a_cache_directory_every_download_is_rendered(
    app: Flask, client: FlaskClient, plan: Any, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", "")
    assert download(client, plan).data == download(client, plan).data
    assert len(renders) == 2


def test_a_browser_that_has_this_version_gets_not_modified(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    first = download(client, plan)
    for path in cache_dir.glob("*.pdf"):
        path.unlink()  # not even the file is needed to say so
    again = download(client, plan, headers={"If-None-Match": f'"{first.key}"'})
    assert again.status == 304
    assert again.data == b""
    assert again.key == first.key
    assert len(renders) == 1

    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    changed = download(client, plan, headers={"If-None-Match": f'"{first.key}"'})
    assert changed.status == 200
    assert changed.key != first.key
    assert "Lighthouse goal" in [goal["statement"] for goal in changed.doc["goals"]]


def test_a_range_of_the_cached_pdf_can_be_asked_for(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    whole = download(client, plan)
    part = download(client, plan, headers={"Range": "bytes=0-9"})
    assert part.status == 206
    assert part.data == whole.data[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(whole.data)}"


def test_two_requests_for_a_new_pdf_render_it_once(
    app: Flask, plan: Any, cache_dir: Path, owner: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, finish = threading.Event(), threading.Event()
    titles: list[str] = []

    def slow_render(doc: dict[str, Any], **kwargs: Any) -> bytes:
        titles.append(doc["title"])
        started.set()
        finish.wait(10)
        return stand_in_pdf(doc)

    monkeypatch.setattr(routes, "render_pdf", slow_render)
    url = f"/plans/{plan.id}/document.pdf"
    results: list[bytes] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            client = app.test_client()
            login(client, owner)
            with app.app_context(), client.get(url) as response:
                results.append(response.get_data())
        except BaseException as error:
            errors.append(error)

    first = threading.Thread(target=fetch)
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=fetch)
    second.start()  # asks while the first is still rendering...
    second.join(0.5)
    finish.set()  # ...and gets the first one's file once it is written
    first.join()
    second.join()
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert titles == ["Harbour plan"]


# ------------------------------------------------------------ any change: a new PDF


@pytest.mark.pdf
def test_every_kind_of_change_makes_a_new_pdf_that_shows_it(
    client: FlaskClient, plan: Any, cache_dir: Path, real_renders: list[str]
) -> None:
    def shows(text: str, *fragments: str) -> bool:
        """Whether the fragments appear in `text` in this order."""
        positions = [text.find(re.sub(r"\s+", "", fragment)) for fragment in fragments]
        return -1 not in positions and positions == sorted(positions)

    changes = [
        (lambda: store.update_plan_fields(plan, {"title": "Harbour plan, renamed"}), ["Harbour plan, renamed"]),
        (lambda: store.add_item(plan, GOAL, {"statement": "Lighthouse goal"}), ["Lighthouse goal"]),
        (lambda: store.update_item(plan, GOAL, "g1", {"statement": "Anchor goal, rewritten"}), ["goal, rewritten"]),
        (lambda: store.move_item(plan, GOAL, "g2", -1), ["Buoy goal", "Anchor goal, rewritten"]),
        (lambda: store.delete_item(plan, GOAL, "g1"), []),
    ]
    before = download(client, plan)
    assert shows(before.text, "Anchor goal", "Buoy goal")
    for change, expected in changes:
        change()
        after = download(client, plan)
        assert after.key != before.key
        assert shows(after.text, *expected)
        # Only the newest PDF of the plan is kept.
        assert cached_files(cache_dir) == [f"{after.key}.pdf"]
        before = after
    assert "Anchorgoal" not in before.text
    assert len(real_renders) == 1 + len(changes)


def test_a_new_day_prints_a_new_date(
    client: FlaskClient, plan: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[date] = []
    monkeypatch.setattr(routes, "render_pdf", lambda doc, *, today, **_: printed.append(today) or stand_in_pdf(doc))

    class Tomorrow(date):
        @classmethod
        def today(cls) -> date:
            return date(2031, 5, 17)

    before = download(client, plan)
    monkeypatch.setattr(routes, "date", Tomorrow)
    after = download(client, plan)
    assert after.key != before.key
    assert printed[-1] == date(2031, 5, 17)
    assert len(printed) == 2


def test_the_key_names_the_plan_its_revision_its_day_and_the_code(ctx: Flask, plan: Any) -> None:
    key = document_key(plan, date(2030, 1, 1))
    assert key.startswith(f"{plan.id}-")
    assert key == document_key(plan, date(2030, 1, 1))
    assert key != document_key(plan, date(2030, 1, 2))
    assert key != document_key(plan, date(2030, 1, 1), version="another release")
    assert cache.code_version() == cache.code_version()
    store.update_plan_fields(plan, {"mission": "A mission"})
    assert key != document_key(plan, date(2030, 1, 1))


def test_two_plans_do_not_share_a_pdf(
    client: FlaskClient, plan: Any, new_plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    other = new_plan("Estuary plan")
    first, second = download(client, plan), download(client, other)
    assert first.doc["title"] == "Harbour plan"
    assert second.doc["title"] == "Estuary plan"
    assert download(client, plan).data == first.data
    assert download(client, other).data == second.data
    assert renders == ["Harbour plan", "Estuary plan"]
    assert cached_files(cache_dir) == sorted([f"{first.key}.pdf", f"{second.key}.pdf"])


def test_a_new_plan_never_gets_a_deleted_plans_pdf(
    client: FlaskClient, plan: Any, new_plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    download(client, plan)
    store.delete_plan(plan)
    # SQLite may give the new plan the deleted one's id, and both start at the same revision.
    newcomer = new_plan("Newcomer plan")
    assert download(client, newcomer).doc["title"] == "Newcomer plan"
    assert renders == ["Harbour plan", "Newcomer plan"]


def test_a_plan_the_person_may_not_read_is_not_served_from_the_cache(
    app: Flask, plan: Any, cache_dir: Path, renders: list[str], add_user: Any, login: Any, client: FlaskClient
) -> None:
    cached = download(client, plan)
    stranger = app.test_client()
    login(stranger, add_user("stranger@example.org"))
    assert download(stranger, plan).status == 404
    assert download(stranger, plan, headers={"If-None-Match": f'"{cached.key}"'}).status == 404


# ------------------------------------------------------------ what is on disk


def test_a_broken_cached_file_is_not_served(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    good = download(client, plan)
    path = cache_dir / f"{good.key}.pdf"
    for broken in (good.data[: len(good.data) // 2], b"", b"not a pdf at all"):
        path.write_bytes(broken)
        again = download(client, plan)
        assert again.data == good.data
        assert path.read_bytes() == good.data
    assert len(renders) == 4


def test_a_write_that_fails_half_way_leaves_nothing_behind(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(cache.os, "fsync", crash)
        with pytest.raises(OSError, match="disk full"):
            download(client, plan)
    assert cached_files(cache_dir) == []
    assert list(cache_dir.glob(".tmp-*")) == []

    assert download(client, plan).status == 200
    assert len(cached_files(cache_dir)) == 1


def test_a_symlink_in_the_cache_is_never_followed(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str], tmp_path: Path
) -> None:
    good = download(client, plan)
    path = cache_dir / f"{good.key}.pdf"
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7\nsecret\n%%EOF\n")
    path.unlink()
    path.symlink_to(secret)

    again = download(client, plan)
    assert again.data == good.data
    assert not path.is_symlink()
    assert secret.read_bytes() == b"%PDF-1.7\nsecret\n%%EOF\n"


@pytest.mark.parametrize(
    "key",
    [
        "../1-0123456789abcdef0123456789abcdef",
        "1-0123456789abcdef0123456789abcdef/../../etc/passwd",
        "/etc/passwd",
        "1-../../../../etc/passwd",
        "0-0123456789abcdef0123456789abcdef",
        "1-0123456789ABCDEF0123456789ABCDEF",
        "1-0123456789abcdef0123456789abcdef\x00",
        "1-0123456789abcdef0123456789abcdef\n",
        "1-0123456789abcdef0123456789abcdef.pdf",
        "",
    ],
)
def test_no_key_reaches_outside_the_cache_directory(tmp_path: Path, key: str) -> None:
    pdfs = PdfCache(tmp_path / "cache")
    with pytest.raises(BadKey):
        pdfs.path(key)
    with pytest.raises(BadKey):
        pdfs.put(key, b"%PDF-1.7\n%%EOF\n")
    with pytest.raises(BadKey):
        pdfs.open(key)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_the_cache_directory_is_private(client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str]) -> None:
    download(client, plan)
    assert cache_dir.stat().st_mode & 0o777 == 0o700
    for path in cache_dir.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path.name


# ------------------------------------------------------------ drawn ahead, once edits settle

SETTLE = 20.0  # seconds, as in production: the tests say when "now" is, nobody waits


@pytest.fixture
def drawn_ahead(app: Flask, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Background drawing on, with no worker thread: tests call `prerender.sweep` themselves."""
    monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_SETTLE_SECONDS", SETTLE)
    monkeypatch.setitem(app.config, "PDF_PRERENDER_POLL_SECONDS", 0.0)
    return cache_dir


def edited_at(plan: Any) -> datetime:
    """When the plan was last written to (the database's `updated_at`, UTC)."""
    from planner.extensions import db

    db.session.refresh(plan)
    return plan.updated_at


def set_edited_at(plan: Any, when: datetime) -> None:
    from planner.extensions import db
    from planner.models import Plan

    db.session.execute(db.update(Plan).where(Plan.id == plan.id).values(updated_at=when))
    db.session.commit()


def status(client: FlaskClient, plan: Any) -> dict[str, Any]:
    response = client.get(f"/plans/{plan.id}/document/pdf-status")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_json()


def test_a_plan_is_drawn_in_the_background_once_its_edits_settle(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    store.update_plan_fields(plan, {"mission": "Safe harbour for all"})
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE / 2)) is None
    # As if that edit was 15 s ago, and someone saves again now: still at work.
    first = edited_at(plan) - timedelta(seconds=15)
    set_edited_at(plan, first)
    store.update_item(plan, GOAL, "g1", {"statement": "Anchor goal, sharper"})
    last = edited_at(plan)
    # Settled since the first edit, but not since the last: nothing is drawn while people type.
    assert prerender.sweep(app, now=first + timedelta(seconds=SETTLE + 1)) is None
    assert prerender.sweep(app, now=last + timedelta(seconds=SETTLE - 1)) is None
    assert renders == [] and cached_files(drawn_ahead) == []

    drawn = prerender.sweep(app, now=last + timedelta(seconds=SETTLE + 1))
    assert renders == ["Harbour plan"]
    assert cached_files(drawn_ahead) == [f"{drawn}.pdf"]
    assert prerender.sweep(app, now=last + timedelta(seconds=SETTLE + 2)) is None  # drawn once

    # The download, later, is the file: nothing is drawn for it, and it holds the last edit.
    got = download(client, plan)
    assert got.status == 200 and got.key == drawn
    assert renders == ["Harbour plan"]
    assert "Anchor goal, sharper" in [goal["statement"] for goal in got.doc["goals"]]
    assert got.doc["mission"] == "Safe harbour for all"


def test_the_background_keeps_up_with_each_new_revision_and_day(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1))
    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    second = prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1))
    assert first and second and first != second
    assert cached_files(drawn_ahead) == [f"{second}.pdf"]  # the old revision's PDF is gone

    class Tomorrow(date):
        @classmethod
        def today(cls) -> date:
            return date.fromordinal(date.today().toordinal() + 1)

    monkeypatch.setattr(prerender, "date", Tomorrow)
    monkeypatch.setattr(routes, "date", Tomorrow)
    tomorrow = prerender.sweep(app, now=edited_at(plan) + timedelta(days=1))  # a new date on the cover
    assert tomorrow not in (None, second)
    assert download(client, plan).key == tomorrow
    assert renders == ["Harbour plan"] * 3


def test_plans_nobody_touched_for_a_week_are_left_alone(
    app: Flask, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(days=8)) is None
    assert renders == []


def test_without_background_drawing_nothing_is_drawn_ahead(
    app: Flask, plan: Any, drawn_ahead: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PDF_PRERENDER", False)
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", "")
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    assert renders == []


def test_a_pdf_someone_waits_for_is_drawn_next_even_while_edits_go_on(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    answer = status(client, plan)
    assert answer == {"ready": False, "failed": False, "href": f"/plans/{plan.id}/document.pdf"}
    assert len(list(drawn_ahead.glob("*.wanted"))) == 1
    assert status(client, plan)["ready"] is False  # asking again asks for nothing more
    assert renders == []  # the status answers at once: it draws nothing itself

    drawn = prerender.sweep(app, now=edited_at(plan))  # just edited: not settled, but waited for
    assert renders == ["Harbour plan"]
    assert list(drawn_ahead.glob("*.wanted")) == []
    assert status(client, plan)["ready"] is True
    got = download(client, plan)
    assert got.key == drawn and renders == ["Harbour plan"]


def test_a_wait_for_a_revision_since_replaced_draws_the_current_one(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    assert status(client, plan)["ready"] is False
    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})  # a colleague saves meanwhile
    drawn = prerender.sweep(app, now=edited_at(plan))
    assert drawn == download(client, plan).key
    assert list(drawn_ahead.glob("*.wanted")) == []
    assert len(renders) == 1


def test_with_nothing_to_wait_for_the_status_says_ready(
    app: Flask, client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No background drawing: the download draws the PDF itself, so the button should just go.
    assert status(client, plan)["ready"] is True
    monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", "")
    assert status(client, plan)["ready"] is True
    assert renders == []


def test_a_pdf_being_drawn_for_a_download_is_not_drawn_again_by_the_background(
    app: Flask, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    pdfs = PdfCache(drawn_ahead)
    with pdfs.try_rendering(plan.id) as mine:  # what a download holds while it draws
        assert mine
        assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    assert renders == []
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1))
    assert renders == ["Harbour plan"]


def test_a_pdf_the_background_cannot_draw_is_not_retried_until_the_plan_changes(
    app: Flask, plan: Any, drawn_ahead: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tries: list[str] = []

    def broken(doc: dict[str, Any], **kwargs: Any) -> bytes:
        tries.append(doc["title"])
        raise RuntimeError("WeasyPrint fell over")

    monkeypatch.setattr(prerender, "render_pdf", broken)
    later = edited_at(plan) + timedelta(seconds=SETTLE + 1)
    assert prerender.sweep(app, now=later) is None
    assert prerender.sweep(app, now=later) is None
    assert tries == ["Harbour plan"]
    assert "could not draw the PDF" in caplog.text
    # Remembered in the cache directory, where every process sees it, for a few minutes.
    (mark,) = drawn_ahead.glob("*.failed")
    assert mark.read_text() == "error"
    assert PdfCache(drawn_ahead).failure(mark.stem) == "error"
    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1))
    assert tries == ["Harbour plan"] * 2


TWO_PROCESSES = """
import sys, time
from pathlib import Path
from config import TestConfig
from planner import create_app
from planner.documents import prerender

database_url, cache_dir, log, go = sys.argv[1:]

def slow_render(doc, **kwargs):
    with open(log, "a") as out:
        out.write(doc["title"] + "\\n")
    time.sleep(0.5)  # long enough for the other process to try meanwhile
    return b"%PDF-1.7\\n%%EOF\\n"

prerender.render_pdf = slow_render
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, PDF_CACHE_DIR=cache_dir,
                 PDF_PRERENDER=True, PDF_SETTLE_SECONDS=0.0)
with app.app_context():
    from planner.extensions import db
    db.session.execute(db.text("SELECT 1"))  # connected and ready before the start
    db.session.remove()
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.01)
drew = [prerender.sweep(app) for _ in range(3)]
print(sum(key is not None for key in drew), flush=True)
with app.app_context():
    db.engine.dispose()
"""


@pytest.mark.server
def test_two_processes_sweeping_one_cache_draw_each_revision_once(
    app: Flask, plan: Any, drawn_ahead: Path, tmp_path: Path
) -> None:
    log, go = tmp_path / "renders.log", tmp_path / "go"
    log.touch()
    args = [app.config["SQLALCHEMY_DATABASE_URI"], str(drawn_ahead), str(log), str(go)]
    root = Path(__file__).resolve().parent.parent
    script = textwrap.dedent(TWO_PROCESSES)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
        go.touch()  # both sweep at once
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outputs]
    assert sorted(int(out.strip()) for out, _ in outputs) == [0, 1]  # one drew it, the other did not
    assert log.read_text().splitlines() == ["Harbour plan"]
    assert len(cached_files(drawn_ahead)) == 1


def test_each_process_starts_its_worker_with_its_first_request(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get("/")
    assert app.extensions.get("pdf_prerender_worker") is None  # no polling set: tests drive it

    monkeypatch.setitem(app.config, "PDF_PRERENDER_POLL_SECONDS", 0.05)
    monkeypatch.setitem(app.config, "PDF_SETTLE_SECONDS", 0.0)
    try:
        client.get("/")
        worker = app.extensions["pdf_prerender_worker"]
        assert worker.alive() and worker.thread.name == "pdf-prerender"
        client.get("/")
        assert app.extensions["pdf_prerender_worker"] is worker  # one per process
        deadline = time.monotonic() + 10
        while not cached_files(drawn_ahead) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert renders == ["Harbour plan"]
        assert download(client, plan).status == 200
        assert renders == ["Harbour plan"]
    finally:
        prerender.stop_worker(app)
    assert not worker.thread.is_alive()


# ------------------------------------------------------------ a PDF that is not ready, or cannot be


def test_a_download_waits_a_little_then_says_the_pdf_is_being_drawn(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PDF_WAIT_SECONDS", 0.3)
    started = time.monotonic()
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        page = response.get_data(as_text=True)
    assert time.monotonic() - started < 5  # a short wait, never the whole render
    assert response.status_code == 202
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Retry-After"] == "5"
    assert "The PDF is being drawn" in page
    # The page waits with the buttons' script and downloads the PDF when it is ready.
    assert re.search(
        rf'href="/plans/{plan.id}/document.pdf"\s+data-pdf-status="/plans/{plan.id}/document/pdf-status" data-pdf-wait',
        page,
    )
    assert f'href="/plans/{plan.id}/document.docx"' in page and f'href="/plans/{plan.id}/document.md"' in page
    assert renders == []
    assert len(list(drawn_ahead.glob("*.wanted"))) == 1  # the worker draws it next

    drawn = prerender.sweep(app, now=edited_at(plan))
    got = download(client, plan)
    assert got.status == 200 and got.key == drawn
    assert renders == ["Harbour plan"]


def test_a_download_gets_the_pdf_the_worker_draws_while_it_waits(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PDF_WAIT_SECONDS", 10)
    now = edited_at(plan)
    worker = threading.Thread(target=lambda: (time.sleep(0.3), prerender.sweep(app, now=now)))
    worker.start()
    got = download(client, plan)
    worker.join()
    assert got.status == 200 and got.doc["title"] == "Harbour plan"
    assert renders == ["Harbour plan"]


def test_a_pdf_past_a_render_limit_is_too_long_to_print_and_not_drawn_again(
    app: Flask,
    client: FlaskClient,
    plan: Any,
    drawn_ahead: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tries: list[str] = []

    def too_long(doc: dict[str, Any], **kwargs: Any) -> bytes:
        tries.append(doc["title"])
        raise PdfTooLong("time")

    monkeypatch.setattr(prerender, "render_pdf", too_long)
    monkeypatch.setattr(routes, "render_pdf", too_long)
    assert status(client, plan)["ready"] is False
    assert prerender.sweep(app, now=edited_at(plan)) is None
    assert tries == ["Harbour plan"]
    assert "too long to draw" in caplog.text and "time limit" in caplog.text

    answer = status(client, plan)
    assert answer["ready"] is False and answer["failed"] is True
    assert "too long to print as PDF" in answer["message"] and "Word or Markdown" in answer["message"]
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Retry-After" not in response.headers  # asking again cannot help until the plan changes
    assert "This plan is too long to print as PDF" in page
    for alternative in ("document.docx", "document.md", "document"):
        assert f'href="/plans/{plan.id}/{alternative}"' in page
    assert "data-pdf-wait" not in page  # nothing to wait for

    # Every process sees it: nobody draws this revision again, not the worker, not a download.
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    assert download(client, plan).status == 422
    assert tries == ["Harbour plan"]

    # A new revision is not drawn ahead (minutes of CPU, most likely for nothing), but is drawn
    # when someone asks for it: too long again, said so again.
    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    assert tries == ["Harbour plan"]
    assert status(client, plan)["ready"] is False
    assert prerender.sweep(app, now=edited_at(plan) + timedelta(seconds=SETTLE + 1)) is None
    assert tries == ["Harbour plan"] * 2
    assert status(client, plan)["failed"] is True
    assert len(list(drawn_ahead.glob("*.failed"))) == 1  # the older revision's mark is gone


def test_a_plan_too_long_to_print_is_drawn_ahead_again_only_once_a_pdf_of_it_is_drawn(
    app: Flask, client: FlaskClient, plan: Any, drawn_ahead: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[str] = []
    fits = False

    def draw(doc: dict[str, Any], **kwargs: Any) -> bytes:
        tries.append(doc["title"])
        if not fits:
            raise PdfTooLong("memory")
        return stand_in_pdf(doc)

    def settled() -> datetime:
        return edited_at(plan) + timedelta(seconds=SETTLE + 1)

    monkeypatch.setattr(prerender, "render_pdf", draw)
    assert prerender.sweep(app, now=settled()) is None
    assert tries == ["Harbour plan"]
    for goal in ("Lighthouse goal", "Pier goal"):  # each new revision: asked for, too long again
        store.add_item(plan, GOAL, {"statement": goal})
        assert prerender.sweep(app, now=settled()) is None
        status(client, plan)
        assert prerender.sweep(app, now=settled()) is None
    assert tries == ["Harbour plan"] * 3  # the two asked for; kept through each revision's pruning
    store.add_item(plan, GOAL, {"statement": "Quay goal"})
    assert prerender.sweep(app, now=settled()) is None
    assert tries == ["Harbour plan"] * 3

    fits = True  # cut down, it prints when asked for: the plan is drawn ahead again from then on
    status(client, plan)
    assert prerender.sweep(app, now=settled())
    store.add_item(plan, GOAL, {"statement": "Mooring goal"})
    assert prerender.sweep(app, now=settled())
    assert tries == ["Harbour plan"] * 5


def test_an_operator_who_raises_the_limit_a_pdf_reached_gets_it_tried_again(
    app: Flask, client: FlaskClient, plan: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[str] = []

    def too_long(doc: dict[str, Any], **kwargs: Any) -> bytes:
        tries.append(doc["title"])
        raise PdfTooLong("time")

    monkeypatch.setattr(routes, "render_pdf", too_long)
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT_SECONDS", 60)
    monkeypatch.setitem(app.config, "PDF_RENDER_MEMORY_MB", 1024)
    assert download(client, plan).status == 422
    (mark,) = cache_dir.glob("*.failed")
    assert mark.read_text() == "time 60 1024"  # the limits it was made under
    monkeypatch.setitem(app.config, "PDF_RENDER_MEMORY_MB", 4096)  # not the limit it reached
    assert download(client, plan).status == 422
    assert tries == ["Harbour plan"]

    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT_SECONDS", 600)
    monkeypatch.setattr(routes, "render_pdf", lambda doc, **kwargs: stand_in_pdf(doc))
    assert download(client, plan).status == 200


def test_drawn_in_the_request_a_pdf_too_long_to_print_says_so_once(
    app: Flask, client: FlaskClient, plan: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[str] = []

    def too_big(doc: dict[str, Any], **kwargs: Any) -> bytes:
        tries.append(doc["title"])
        raise PdfTooLong("memory")

    monkeypatch.setattr(routes, "render_pdf", too_big)
    assert download(client, plan).status == 422
    again = download(client, plan)
    assert again.status == 422 and b"too long to print as PDF" in again.data
    assert tries == ["Harbour plan"]
    (mark,) = cache_dir.glob("*.failed")
    limits = app.config["PDF_RENDER_TIMEOUT_SECONDS"], app.config["PDF_RENDER_MEMORY_MB"]
    assert mark.read_text() == "memory {:g} {:g}".format(*limits)

    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    monkeypatch.setattr(routes, "render_pdf", lambda doc, **kwargs: stand_in_pdf(doc))
    assert download(client, plan).status == 200
    assert list(cache_dir.glob("*.failed")) == []


def test_a_pdf_that_failed_for_another_reason_is_tried_again_after_a_while(
    client: FlaskClient, plan: Any, drawn_ahead: Path, renders: list[str]
) -> None:
    key = document_key(plan, date.today())
    pdfs = PdfCache(drawn_ahead)
    pdfs.fail(key, "error")
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(cache.ERROR_RETRY_SECONDS)
        assert "could not be drawn just now" in response.get_data(as_text=True)
    mark = drawn_ahead / f"{key}.failed"
    old = time.time() - cache.ERROR_RETRY_SECONDS - 1
    os.utime(mark, (old, old))
    assert pdfs.failure(key) is None and not mark.exists()


# ------------------------------------------------------------ Word and Markdown, kept as the PDF is


@pytest.mark.parametrize(("extension", "mimetype"), [("md", "text/markdown; charset=utf-8"), ("docx", DOCX_MIMETYPE)])
def test_word_and_markdown_are_kept_per_plan_revision(
    client: FlaskClient, plan: Any, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, extension: str, mimetype: str
) -> None:
    made: list[str] = []
    real = routes.coach_report

    def counted(doc: dict[str, Any]) -> Any:
        made.append(doc["title"])
        return real(doc)

    monkeypatch.setattr(routes, "coach_report", counted)  # called once each time the file is made
    url = f"/plans/{plan.id}/document.{extension}"

    def get(**kwargs: Any) -> Download:
        with client.get(url, **kwargs) as response:
            return Download(response.status_code, response.headers, response.get_data())

    first, second = get(), get()
    assert made == ["Harbour plan"]
    assert first.status == second.status == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == mimetype
    assert second.headers["Content-Disposition"] == f"attachment; filename=harbour-plan.{extension}"
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert int(second.headers["Content-Length"]) == len(first.data)
    key = first.key.removesuffix(f".{extension}")
    assert sorted(p.name for p in cache_dir.glob(f"*.{extension}")) == [f"{key}.{extension}"]
    assert get(headers={"If-None-Match": first.headers["ETag"]}).status == 304

    stored = cache_dir / f"{key}.{extension}"
    stored.write_bytes(stored.read_bytes()[:-100])  # cut short: not served, made again
    remade = get()
    assert remade.status == 200 and made == ["Harbour plan"] * 2
    text = remade.data.decode() if extension == "md" else docx_text(remade.data)
    assert text == (first.data.decode() if extension == "md" else docx_text(first.data))

    store.add_item(plan, GOAL, {"statement": "Lighthouse goal"})
    changed = get()
    assert changed.headers["ETag"] != first.headers["ETag"]
    text = changed.data.decode() if extension == "md" else docx_text(changed.data)
    assert "Lighthouse goal" in text
    assert made == ["Harbour plan"] * 3
    assert len(list(cache_dir.glob(f"*.{extension}"))) == 1  # the older revision's file is gone
    assert get().data == changed.data and len(made) == 3


def test_a_word_download_does_not_wait_for_the_plans_pdf(
    client: FlaskClient, plan: Any, cache_dir: Path, renders: list[str]
) -> None:
    with PdfCache(cache_dir).try_rendering(plan.id) as mine:  # a PDF of this plan is being drawn
        assert mine
        with client.get(f"/plans/{plan.id}/document.docx") as response:
            assert response.status_code == 200
