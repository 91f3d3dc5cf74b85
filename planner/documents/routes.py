"""The plan document on screen (a printable page) and as downloads: PDF, Markdown and Word.

Every download is an attachment named after the plan, private to the browser that asked, and
tagged with the plan's document key (`cache.document_key`), so that asking again for an
unchanged plan is answered "304 Not Modified" without rendering anything.  PDFs, which take
seconds to draw, are also kept on disk by `planner.documents.cache` and sent from there, and
drawn ahead of the download by `planner.documents.prerender`.

The PDF's status (`/document/pdf-status`) says whether the PDF can be downloaded at once; the
download buttons' script (static/document.js) asks it first and says "Preparing the PDF…"
until it can, rather than leave a silent request open for as long as drawing takes.  Without
the script, the button is a plain link and the download draws the PDF itself.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import date
from typing import Any, BinaryIO

from flask import Blueprint, Response, current_app, jsonify, request, send_file, url_for

from planner.coach import Report, coach_report
from planner.documents import cache, prerender
from planner.documents.markdown import MARKDOWN_MIMETYPE, render_markdown
from planner.documents.render import document_filename, render_html, render_pdf, use_render_process
from planner.documents.word import DOCX_MIMETYPE, render_docx
from planner.extensions import db
from planner.plans import store
from planner.plans.access import plan_or_404

bp = Blueprint("documents", __name__)

PDF_MIMETYPE = "application/pdf"


@bp.before_app_request
def _start_prerender() -> None:
    # With a process's first request, not at import: gunicorn's workers are forked after import.
    prerender.ensure_worker(current_app._get_current_object())  # type: ignore[attr-defined]


@bp.get("/plans/<int:plan_id>/document")
def document(plan_id: int) -> str:
    plan = plan_or_404(plan_id)
    return render_html(store.load_doc(plan), plan_id=plan.id)


@bp.get("/plans/<int:plan_id>/document.pdf")
def pdf(plan_id: int) -> Response:
    plan = plan_or_404(plan_id)
    today = date.today()  # one date for the key and the cover, even across midnight
    key = cache.document_key(plan, today)
    if not_modified := _not_modified(key):
        return not_modified

    filename = document_filename(plan.title, "pdf")

    def render() -> bytes:
        doc = store.load_doc(plan)
        # Drawing takes seconds and needs no database: give the connection back to the pool
        # meanwhile (this view writes nothing), so that waiting renders don't hold them all.
        db.session.rollback()
        return render_pdf(doc, today=today, separate_process=use_render_process())

    pdf_cache = cache.pdf_cache()
    body = pdf_cache.open_or_render(key, render) if pdf_cache else io.BytesIO(render())
    return _attachment(body, PDF_MIMETYPE, filename, key)


@bp.get("/plans/<int:plan_id>/document/pdf-status")
def pdf_status(plan_id: int) -> Response:
    """Whether the PDF downloads at once (`ready`); if not, it is being prepared: ask again.

    A GET that may leave a wanted mark in the cache directory: it asks for nothing a GET of
    the PDF itself would not draw, and is answered the same for the same plan revision.
    """
    plan = plan_or_404(plan_id)
    ready = prerender.ready_or_wanted(plan, date.today())
    response = jsonify(ready=ready, href=url_for("documents.pdf", plan_id=plan.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/plans/<int:plan_id>/document.md")
def markdown(plan_id: int) -> Response:
    return _text_download(plan_id, "md", MARKDOWN_MIMETYPE, _markdown_bytes)


@bp.get("/plans/<int:plan_id>/document.docx")
def word(plan_id: int) -> Response:
    return _text_download(plan_id, "docx", DOCX_MIMETYPE, render_docx)


def _markdown_bytes(doc: dict[str, Any], *, coach: Report, today: date) -> bytes:
    return render_markdown(doc, coach=coach, today=today).encode("utf-8")


def _text_download(plan_id: int, extension: str, mimetype: str, renderer: Callable[..., bytes]) -> Response:
    """The Markdown or Word file, with the coach's report: quick to make, so made every time."""
    plan = plan_or_404(plan_id)
    today = date.today()
    etag = f"{cache.document_key(plan, today)}.{extension}"
    if not_modified := _not_modified(etag):
        return not_modified
    doc = store.load_doc(plan)
    data = renderer(doc, coach=coach_report(doc), today=today)
    return _attachment(io.BytesIO(data), mimetype, document_filename(plan.title, extension), etag)


def _not_modified(etag: str) -> Response | None:
    """A 304 when the browser already holds this version of the document."""
    if not request.if_none_match.contains_weak(etag):
        return None
    return _private(Response(status=304), etag)


def _attachment(body: BinaryIO, mimetype: str, filename: str, etag: str) -> Response:
    """`body` as a download; answers Range requests (a PDF viewer may fetch pages on demand)."""
    size = len(body.getbuffer()) if isinstance(body, io.BytesIO) else os.fstat(body.fileno()).st_size
    response = send_file(body, mimetype=mimetype, as_attachment=True, download_name=filename, conditional=False)
    response.headers["Content-Type"] = mimetype  # as given: Werkzeug would add a second charset
    response.content_length = size
    _private(response, etag)
    return response.make_conditional(request, accept_ranges=True, complete_length=size)


def _private(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    # A plan may be confidential: keep it out of shared caches, and check before reusing a copy.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
