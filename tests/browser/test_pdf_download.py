"""Downloading the PDF in a real browser: while it is drawn, the page says so; then it downloads.

The background drawing (`planner.documents.prerender`) is on with no worker thread: the test
says when the server has drawn the PDF by calling `sweep` itself, so nothing depends on timing.
WeasyPrint is replaced by a quick stand-in; what the PDF says is tested elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.documents import prerender, routes
from planner.documents.render import PdfTooLong
from planner.extensions import db
from planner.models import Plan
from planner.plans import store
from tests.browser.team import signed_in

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")
STAND_IN = b"%PDF-1.7\n% a stand-in\n%%EOF\n"


@pytest.fixture
def drawn(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Background drawing on, driven by the test; the title of each plan whose PDF is drawn."""
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf-cache"))
    monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_PRERENDER_POLL_SECONDS", 0.0)
    titles: list[str] = []

    def stand_in(doc: dict[str, Any], **kwargs: Any) -> bytes:
        titles.append(doc["title"])
        return STAND_IN

    monkeypatch.setattr(prerender, "render_pdf", stand_in)
    monkeypatch.setattr(routes, "render_pdf", stand_in)
    return titles


@pytest.fixture
def plan_id(app: Flask, owner: Any, add_member: Any) -> int:
    with app.app_context():
        plan = store.create_plan("Harbour plan")
        add_member(plan, owner)
        plan_id = plan.id
        db.session.remove()
    return plan_id


def on_review(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, **options: Any
) -> Page:
    context = signed_in(app, new_context(viewport={"width": 1280, "height": 900}, **options), live_server, owner)
    page = context.new_page()
    page.goto(f"/plans/{plan_id}/steps/review")
    return page


def test_the_pdf_button_says_it_is_preparing_the_pdf_and_downloads_it_when_ready(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, drawn: list[str]
) -> None:
    page = on_review(app, new_context, live_server, owner, plan_id)
    status = page.locator(".downloads [role=status]")
    expect(status).to_be_empty()
    page.get_by_role("link", name="PDF", exact=True).click()
    expect(status).to_contain_text("Preparing the PDF…")
    SCREENS.mkdir(exist_ok=True)
    page.locator(".downloads").screenshot(path=str(SCREENS / "pdf-preparing.png"))
    page.wait_for_timeout(1500)  # the page asks again, and is told again to wait
    expect(status).to_contain_text("Preparing the PDF…")
    assert drawn == []  # asking draws nothing in the request: the server's worker does

    with page.expect_download() as download_info, app.app_context():
        now = db.session.get(Plan, plan_id).updated_at  # just edited: drawn because it is waited for
        assert prerender.sweep(app, now=now)
        db.session.remove()
    download = download_info.value
    assert download.suggested_filename == "harbour-plan.pdf"
    assert Path(download.path()).read_bytes() == STAND_IN
    expect(status).to_be_empty()
    assert drawn == ["Harbour plan"]  # the download was the drawn file


def test_a_ready_pdf_downloads_at_once(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, drawn: list[str]
) -> None:
    with app.app_context():
        now = db.session.get(Plan, plan_id).updated_at + timedelta(minutes=1)
        assert prerender.sweep(app, now=now)  # settled: drawn ahead
        db.session.remove()
    page = on_review(app, new_context, live_server, owner, plan_id)
    with page.expect_download(timeout=5000) as download_info:
        page.get_by_role("link", name="PDF", exact=True).click()
    assert Path(download_info.value.path()).read_bytes() == STAND_IN
    assert drawn == ["Harbour plan"]


def test_without_javascript_the_pdf_button_leads_to_a_page_that_says_it_is_being_drawn(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, drawn: list[str]
) -> None:
    page = on_review(app, new_context, live_server, owner, plan_id, java_script_enabled=False)
    page.get_by_role("link", name="PDF", exact=True).click()  # waits PDF_WAIT_SECONDS, not the render
    expect(page.get_by_role("heading", name="The PDF is being drawn")).to_be_visible()
    expect(page.get_by_text("follow the link again in a minute or two")).to_be_visible()
    assert drawn == []
    with app.app_context():
        assert prerender.sweep(app, now=db.session.get(Plan, plan_id).updated_at)
        db.session.remove()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF").click()
    assert Path(download_info.value.path()).read_bytes() == STAND_IN
    assert drawn == ["Harbour plan"]


def test_the_being_drawn_page_downloads_the_pdf_by_itself(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, drawn: list[str]
) -> None:
    page = on_review(app, new_context, live_server, owner, plan_id)
    page.goto(f"/plans/{plan_id}/document.pdf")  # a saved link, or a new tab: no status asked first
    expect(page.get_by_role("heading", name="The PDF is being drawn")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Preparing the PDF…")
    with page.expect_download() as download_info, app.app_context():
        assert prerender.sweep(app, now=db.session.get(Plan, plan_id).updated_at)
        db.session.remove()
    assert Path(download_info.value.path()).read_bytes() == STAND_IN


def test_a_pdf_too_long_to_draw_is_not_waited_for(
    app: Flask,
    new_context: Callable[..., BrowserContext],
    live_server: str,
    owner: Any,
    plan_id: int,
    drawn: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def too_long(doc: dict[str, Any], **kwargs: Any) -> bytes:
        drawn.append(doc["title"])
        raise PdfTooLong("time")

    monkeypatch.setattr(prerender, "render_pdf", too_long)
    page = on_review(app, new_context, live_server, owner, plan_id)
    page.get_by_role("link", name="PDF", exact=True).click()
    status = page.locator(".downloads [role=status]")
    expect(status).to_contain_text("Preparing the PDF…")
    with app.app_context():
        assert prerender.sweep(app, now=db.session.get(Plan, plan_id).updated_at) is None
        db.session.remove()
    expect(status).to_contain_text("This plan is too long to print as PDF. Download it as Word or Markdown")
    page.wait_for_timeout(1500)
    assert drawn == ["Harbour plan"]  # told once; the page stopped asking, and nothing is drawn again


def test_the_printable_pages_download_link_waits_the_same_way(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, owner: Any, plan_id: int, drawn: list[str]
) -> None:
    page = on_review(app, new_context, live_server, owner, plan_id)
    page.goto(f"/plans/{plan_id}/document")
    page.get_by_role("link", name="Download PDF").click()
    status = page.locator(".toolbar [role=status]")
    expect(status).to_contain_text("Preparing the PDF…")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "pdf-preparing-document.png"))
    with page.expect_download() as download_info, app.app_context():
        assert prerender.sweep(app, now=db.session.get(Plan, plan_id).updated_at)
        db.session.remove()
    assert Path(download_info.value.path()).read_bytes() == STAND_IN
    assert drawn == ["Harbour plan"]
