"""Downloading the plan document: PDF, Markdown and Word, each an attachment named after the plan.

The review page links to these URLs, so they are part of the design: /plans/<id>/document,
/document.pdf, /document.md and /document.docx.  Markdown and Word carry the coach's report.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document as open_docx
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.http import parse_options_header

from planner.coach import coach_report
from planner.documents import render, routes
from planner.documents.markdown import render_markdown
from planner.documents.render import stop_render_process, use_render_process
from planner.documents.word import DOCX_MIMETYPE, render_docx
from planner.plans import store

DOWNLOADS = {
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
    "docx": DOCX_MIMETYPE,
}


@pytest.fixture
def new_plan(ctx: Flask, owner: Any, add_member: Any) -> Any:
    """Store a plan that `client`'s person may read."""

    def make(title: str) -> Any:
        plan = store.create_plan(title)
        add_member(plan, owner)
        return plan

    return make


def docx_text(data: bytes) -> str:
    document = open_docx(io.BytesIO(data))
    cells = (cell.text for table in document.tables for row in table.rows for cell in row.cells)
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("documents.document", "/plans/7/document"),
        ("documents.pdf", "/plans/7/document.pdf"),
        ("documents.markdown", "/plans/7/document.md"),
        ("documents.word", "/plans/7/document.docx"),
        ("interchange.export_json", "/plans/7/export.json"),
    ],
)
def test_the_review_page_can_link_to_every_format(app: Flask, endpoint: str, path: str) -> None:
    with app.test_request_context():
        assert url_for(endpoint, plan_id=7) == path


@pytest.mark.parametrize(
    ("extension", "mimetype"),
    [pytest.param(e, m, marks=[pytest.mark.pdf] if e == "pdf" else []) for e, m in DOWNLOADS.items()],
)
def test_each_format_is_a_private_download_named_after_the_plan(
    client: FlaskClient, new_plan: Any, extension: str, mimetype: str
) -> None:
    plan = new_plan("Café plan: 2027")
    response = client.get(f"/plans/{plan.id}/document.{extension}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mimetype
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert options == {"filename": f"cafe-plan-2027.{extension}"}
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert int(response.headers["Content-Length"]) == len(response.data) > 0
    assert response.headers["ETag"]


def test_the_markdown_holds_the_plan_and_the_coachs_report(client: FlaskClient, example_plan: Any) -> None:
    doc = store.load_doc(example_plan)
    text = client.get(f"/plans/{example_plan.id}/document.md").get_data(as_text=True)
    assert doc["title"] in text
    assert doc["organization"] in text
    assert text == render_markdown(doc, coach=coach_report(doc), today=date.today())


def test_the_word_file_opens_and_holds_the_plan_and_the_coachs_report(client: FlaskClient, example_plan: Any) -> None:
    doc = store.load_doc(example_plan)
    data = client.get(f"/plans/{example_plan.id}/document.docx").data
    document = open_docx(io.BytesIO(data))
    assert document.core_properties.title == doc["title"]
    text = docx_text(data)
    assert doc["title"] in text
    assert doc["organization"] in text
    assert text == docx_text(render_docx(doc, coach=coach_report(doc), today=date.today()))


@pytest.mark.parametrize("extension", ["md", "docx"])
def test_the_coach_reads_the_plan_being_downloaded(
    client: FlaskClient, new_plan: Any, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    plan = new_plan("Coached plan")
    read: list[str] = []
    real = routes.coach_report

    def spy(doc: dict[str, Any]) -> Any:
        read.append(doc["title"])
        return real(doc)

    monkeypatch.setattr(routes, "coach_report", spy)
    assert client.get(f"/plans/{plan.id}/document.{extension}").status_code == 200
    assert read == ["Coached plan"]


@pytest.mark.parametrize("extension", ["md", "docx"])
def test_an_unchanged_text_download_is_not_made_again(
    client: FlaskClient, new_plan: Any, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    plan = new_plan("Plan")
    url = f"/plans/{plan.id}/document.{extension}"
    etag = client.get(url).headers["ETag"]

    with monkeypatch.context() as patch:
        patch.setattr(routes, "coach_report", lambda doc: pytest.fail("rendered again"))
        again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    store.update_plan_fields(plan, {"title": "Plan, renamed"})
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


@pytest.mark.parametrize("suffix", ["", ".pdf", ".md", ".docx"])
def test_an_unknown_plan_has_no_document(client: FlaskClient, suffix: str) -> None:
    assert client.get(f"/plans/999/document{suffix}").status_code == 404


def test_an_untitled_plan_downloads_as_plan(client: FlaskClient, new_plan: Any) -> None:
    plan = new_plan("中文计划")
    response = client.get(f"/plans/{plan.id}/document.md")
    assert parse_options_header(response.headers["Content-Disposition"])[1] == {"filename": "plan.md"}


# ------------------------------------------------------------ where the PDF is drawn


def test_outside_tests_pdfs_are_drawn_in_a_render_process(app: Flask) -> None:
    assert use_render_process(app) is False  # tests watch WeasyPrint in-process
    production = Flask(__name__)
    assert use_render_process(production) is True
    production.config["PDF_RENDER_PROCESS"] = False
    assert use_render_process(production) is False


@pytest.mark.pdf
@pytest.mark.server
def test_the_render_process_draws_the_same_pdf_without_the_web_process_drawing(
    app: Flask, client: FlaskClient, new_plan: Any, monkeypatch: pytest.MonkeyPatch, fetched: list[str]
) -> None:
    plan = new_plan("Drawn elsewhere")
    url = f"/plans/{plan.id}/document.pdf"
    in_process = client.get(url).data
    assert fetched  # drawn here, it fetched its stylesheet in this process
    fetched.clear()

    monkeypatch.setitem(app.config, "PDF_RENDER_PROCESS", True)
    try:
        elsewhere = client.get(url).data
        again = client.get(url).data  # the same render process, already running
    finally:
        stop_render_process()
    assert elsewhere == again == in_process
    assert fetched == []  # nothing was drawn in this process


@pytest.mark.pdf
def test_every_pdf_a_process_draws_uses_its_one_font_configuration(
    client: FlaskClient, new_plan: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []
    real = render.FontConfiguration

    def counted() -> Any:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(render, "FontConfiguration", counted)
    monkeypatch.setattr(render, "_font_config", None)  # as in a newly started process
    used: list[Any] = []
    real_write = render.HTML.write_pdf

    def write_pdf(self: Any, *args: Any, **kwargs: Any) -> Any:
        used.append(kwargs["font_config"])
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(render.HTML, "write_pdf", write_pdf)
    for title in ("First plan", "Second plan"):
        assert client.get(f"/plans/{new_plan(title).id}/document.pdf").status_code == 200
    assert len(made) == 1
    assert used == [made[0], made[0]]


KILLED_WORKER = """
import multiprocessing, sys
from config import TestConfig
from planner import create_app
from planner.documents.render import html_to_pdf

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
with app.app_context():
    html_to_pdf("<p>A page</p>", separate_process=True)
print(*[child.pid for child in multiprocessing.active_children()], flush=True)
sys.stdin.read()  # until killed
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\\nState:\\tZ" in status  # exited, waiting to be reaped


@pytest.mark.server
def test_a_killed_web_process_takes_its_render_process_with_it() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None and worker.stdin is not None
    try:
        (render_pid,) = map(int, worker.stdout.readline().split())
        assert not _gone(render_pid)
    finally:
        worker.kill()  # as gunicorn kills a worker that stopped answering
        worker.wait()
        worker.stdin.close()
        worker.stdout.close()
    deadline = time.monotonic() + 10
    while not _gone(render_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(render_pid)


# ------------------------------------------------------------ while a PDF is prepared


def test_the_pdf_buttons_ask_whether_the_pdf_is_ready_before_downloading(
    client: FlaskClient, example_plan: Any
) -> None:
    status_url = f"/plans/{example_plan.id}/document/pdf-status"
    for page_url in (f"/plans/{example_plan.id}/steps/review", f"/plans/{example_plan.id}/document"):
        page = client.get(page_url).get_data(as_text=True)
        # Still a plain link to the PDF (it downloads without JavaScript), and the script that
        # shows "Preparing the PDF…" while the server draws it.
        assert re.search(
            rf'<a [^>]*href="/plans/{example_plan.id}/document.pdf" data-pdf-status="{status_url}"', page
        ), page_url
        assert '<script src="/static/document.js" defer></script>' in page, page_url
    answer = client.get(status_url)
    assert answer.status_code == 200 and answer.is_json
    assert answer.get_json() == {"ready": True, "failed": False, "href": f"/plans/{example_plan.id}/document.pdf"}


def test_only_the_plans_members_may_ask_about_its_pdf(
    as_user: Any, anonymous: Any, example_plan: Any, viewer: Any, outsider: Any
) -> None:
    url = f"/plans/{example_plan.id}/document/pdf-status"
    assert as_user(viewer).get(url).get_json()["ready"] is True
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).get("/plans/999/document/pdf-status").status_code == 404
    stranger = anonymous.get(url)
    assert stranger.status_code in (302, 401) and not stranger.is_json
