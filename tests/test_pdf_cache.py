"""The PDF cache: an unchanged plan's PDF is rendered once; any change to the plan makes a new one.

Each test gets its own cache directory.  The `renders` fixture stands in for WeasyPrint with a
small PDF-shaped file that holds the plan document it was given (as JSON), and records each
call, so a test sees at once whether a download was rendered and from what.  The tests that
read what a real PDF says use `real_renders`, which records and then renders for real.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from planner.documents import cache, routes
from planner.documents.cache import BadKey, PdfCache, document_key
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
    return titles


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of each plan the route renders a PDF for (with the quick stand-in)."""
    return _spy(monkeypatch, lambda doc, **kwargs: stand_in_pdf(doc))


@pytest.fixture
def real_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of each plan the route renders a PDF for (with WeasyPrint)."""
    return _spy(monkeypatch, routes.render_pdf)


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
