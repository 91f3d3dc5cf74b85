"""The plan document on screen (a printable page) and as downloads: PDF, Markdown and Word.

Every download is an attachment named after the plan, private to the browser that asked, and
tagged with the plan's document key (`cache.document_key`), so that asking again for an
unchanged plan is answered "304 Not Modified" without rendering anything.  Every format is
also kept on disk by `planner.documents.cache`, per plan revision, and sent from there; PDFs,
which take seconds to draw, are drawn ahead of the download by `planner.documents.prerender`.

The PDF's status (`/document/pdf-status`) says whether the PDF can be downloaded at once; the
download buttons' script (static/document.js) asks it first and says "Preparing the PDF…"
until it can, rather than leave a silent request open for as long as drawing takes.  Without
the script, the button is a plain link.  A download that finds no PDF waits for the worker at
most `PDF_WAIT_SECONDS`, well under a proxy's timeout; then it answers with a page instead:

* **202 Accepted**, "the PDF is being drawn": the page waits with the same script and downloads
  it when it is ready (without JavaScript, its link is followed again by hand);
* **422 Unprocessable Content**, "too long to print as PDF", when this revision's PDF went past
  a render limit (`render.PdfTooLong`).  A 4xx, not a 5xx: the server is well and nothing needs
  an operator (it is logged once, as a warning, when the limit is hit), and asking again
  unchanged cannot succeed, so no client or proxy should retry it; the plan's next change
  tries again.  Not 413: the request is not too large, the plan's document is;
* **503 Service Unavailable** with `Retry-After`, when drawing failed for another reason
  (logged with its traceback): a fault, tried again after `cache.ERROR_RETRY_SECONDS`.

Each of these pages offers the printable page, Word and Markdown, which always work.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import date
from typing import Any, BinaryIO

from flask import Blueprint, Response, current_app, jsonify, render_template, request, send_file, url_for

from planner.accounts.access import plan_or_404
from planner.coach import Report, coach_report
from planner.documents import cache, prerender
from planner.documents.markdown import MARKDOWN_MIMETYPE, render_markdown
from planner.documents.render import PdfTooLong, document_filename, render_html, render_pdf, use_render_process
from planner.documents.word import DOCX_MIMETYPE, render_docx
from planner.domain import REVIEW_STEP
from planner.extensions import db
from planner.plans import store

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
    if pdf_cache is None:
        try:
            return _attachment(io.BytesIO(render()), PDF_MIMETYPE, filename, key)
        except PdfTooLong as error:
            return _not_drawn(plan, error.limit)
    # Drawn already (ahead, or by an earlier download): a file sent, and nothing else to ask.
    if (drawn := pdf_cache.open(key)) is not None:
        return _attachment(drawn, PDF_MIMETYPE, filename, key)
    if failure := pdf_cache.failure(key):
        return _not_drawn(plan, failure)
    if prerender.background(current_app):
        # The worker draws it (this process's or another's): wait a little, never for long.
        title = plan.title
        db.session.rollback()  # no connection held while waiting
        got = prerender.wait_for(pdf_cache, key, float(current_app.config.get("PDF_WAIT_SECONDS", 15)))
        if got is None or isinstance(got, str):
            return _not_drawn(plan_or_404(plan_id), got or prerender.DRAWING)
        return _attachment(got, PDF_MIMETYPE, document_filename(title, "pdf"), key)
    # No worker to hand it to: drawn here, within the render limits.
    try:
        body = pdf_cache.open_or_render(key, render)
    except PdfTooLong as error:
        pdf_cache.fail(key, error.limit)
        return _not_drawn(plan, error.limit)
    return _attachment(body, PDF_MIMETYPE, filename, key)


# What each state's page is called, and its status (see the module's docstring).
_NOT_DRAWN = {
    prerender.DRAWING: ("The PDF is being drawn", 202),
    "time": ("This plan is too long to print as PDF", 422),
    "memory": ("This plan is too long to print as PDF", 422),
    "error": ("The PDF could not be drawn", 503),
}


def _not_drawn(plan: Any, state: str) -> Response:
    """The page a PDF download shows instead of the PDF: being drawn, too long, or failed."""
    heading, status = _NOT_DRAWN[state]
    page = render_template(
        "document/pdf_pending.html", plan=plan, state=state, heading=heading, review_slug=REVIEW_STEP.slug
    )
    response = Response(page, status)
    response.headers["Cache-Control"] = "private, no-store"  # it says how things stand right now
    if status != 422:
        retry = 5 if state == prerender.DRAWING else cache.ERROR_RETRY_SECONDS
        response.headers["Retry-After"] = str(retry)
    return response


@bp.get("/plans/<int:plan_id>/document/pdf-status")
def pdf_status(plan_id: int) -> Response:
    """Whether the PDF downloads at once (`ready`); if not, it is being prepared: ask again;
    unless it `failed`, and then `message` says why and what to download instead.

    A GET that may leave a wanted mark in the cache directory: it asks for nothing a GET of
    the PDF itself would not draw, and is answered the same for the same plan revision.
    """
    plan = plan_or_404(plan_id)
    state = prerender.state(plan, date.today())
    answer: dict[str, Any] = {
        "ready": state == prerender.READY,
        "failed": state not in (prerender.READY, prerender.DRAWING),
        "href": url_for("documents.pdf", plan_id=plan.id),
    }
    if answer["failed"]:
        answer["message"] = PDF_FAILED_MESSAGES[state]
    response = jsonify(answer)
    response.headers["Cache-Control"] = "private, no-store"
    return response


_TOO_LONG = (
    "This plan is too long to print as PDF. Download it as Word or Markdown, "
    "or print the printable page from your browser."
)
PDF_FAILED_MESSAGES = {
    "time": _TOO_LONG,
    "memory": _TOO_LONG,
    "error": "The PDF could not be drawn just now. Try again in a few minutes, or download Word or Markdown.",
}


@bp.get("/plans/<int:plan_id>/document.md")
def markdown(plan_id: int) -> Response:
    return _text_download(plan_id, "md", MARKDOWN_MIMETYPE, _markdown_bytes)


@bp.get("/plans/<int:plan_id>/document.docx")
def word(plan_id: int) -> Response:
    return _text_download(plan_id, "docx", DOCX_MIMETYPE, render_docx)


def _markdown_bytes(doc: dict[str, Any], *, coach: Report, today: date) -> bytes:
    return render_markdown(doc, coach=coach, today=today).encode("utf-8")


def _text_download(plan_id: int, extension: str, mimetype: str, renderer: Callable[..., bytes]) -> Response:
    """The Markdown or Word file, with the coach's report, kept per plan revision as the PDF is:
    quick for a small plan, seconds of the web process's time for a long one."""
    plan = plan_or_404(plan_id)
    today = date.today()
    key = cache.document_key(plan, today)
    etag = f"{key}.{extension}"
    if not_modified := _not_modified(etag):
        return not_modified

    def make() -> bytes:
        doc = store.load_doc(plan)
        return renderer(doc, coach=coach_report(doc), today=today)

    filename = document_filename(plan.title, extension)
    documents = cache.pdf_cache()
    body = documents.open_or_render(key, make, f".{extension}") if documents else io.BytesIO(make())
    return _attachment(body, mimetype, filename, etag)


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
    response.make_conditional(request, accept_ranges=True, complete_length=size)  # in place
    return response


def _private(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    # A plan may be confidential: keep it out of shared caches, and check before reusing a copy.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
