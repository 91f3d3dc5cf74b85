"""Rendering the plan document: one set of templates for the screen, print and PDF.

`render_html` turns a plan document (`store.load_doc`) into the HTML page; `render_pdf` hands
the same HTML to WeasyPrint.  Both need an app context: templates and the static folder
belong to the app.  WeasyPrint loads nothing except through `AssetFetcher`, and its base URL
is an internal one that only that fetcher understands.

WeasyPrint takes seconds of CPU for a small plan and tens of seconds for a large one, nearly
all of it holding the GIL.  Drawn inside a threaded web worker, a PDF would slow every other
request that worker serves (a workshop's live streams among them).  So the app can draw PDFs
in a *render process*: one per app process, started on first use, that does nothing else
(`render_pdf(..., separate_process=True)`; see `use_render_process` for when the routes do).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, url_for
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from planner.documents import content
from planner.documents.content import build
from planner.documents.fetcher import ASSET_BASE, AssetFetcher

# File names come from the same slug as the JSON download's, so every format is named alike.
from planner.interchange.transfer import slugify as slug

STYLESHEET = "print.css"
SCRIPT = "document.js"

_font_config: FontConfiguration | None = None
_font_config_lock = threading.Lock()
# The font configuration wraps fontconfig and Pango state in C that WeasyPrint does not promise
# is safe to share between threads, so renders in one process take turns.  Rendering is
# CPU-bound and holds the GIL most of the time anyway.
_render_lock = threading.Lock()


def font_config() -> FontConfiguration:
    """The process's one FontConfiguration.

    Building one asks fontconfig to scan the system's fonts, which is slow; one per process
    is enough because the document declares no @font-face rules that would change it.  It is
    made on first use rather than at import, so that forked workers each build their own.
    """
    global _font_config
    with _font_config_lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return _font_config


def _static_folder() -> str:
    # Never fall back to "" here: the fetcher would then serve the working directory.
    folder = current_app.static_folder
    if not folder:
        raise RuntimeError("the plan document needs the app's static folder")
    return folder


def render_html(
    doc: dict[str, Any],
    *,
    for_pdf: bool = False,
    standalone: bool = False,
    plan_id: int | None = None,
    today: date | None = None,
) -> str:
    """The plan document as an HTML page.

    `for_pdf` points asset links at the internal base URL and leaves out what only a screen
    needs.  `standalone` makes a file that reads well away from the app (an export): the
    stylesheet is inlined and there is no script.  With `plan_id`, the screen page links back
    to the wizard and to the PDF.
    """
    inline_css = None
    if standalone and not for_pdf:
        # Our own stylesheet, not anything a user typed: safe to put in the page as it is.
        inline_css = Markup(Path(_static_folder(), STYLESHEET).read_text(encoding="utf-8"))

    def asset(filename: str) -> str:
        if for_pdf:
            return ASSET_BASE + filename
        if has_request_context():
            return url_for("static", filename=filename)
        # Outside a request (a script, the shell) url_for cannot build URLs.
        return f"{current_app.static_url_path}/{filename}"

    return render_template(
        "document/document.html",
        document=build(doc, today=today),
        words=content,
        for_pdf=for_pdf,
        inline_css=inline_css,
        plan_id=None if for_pdf or standalone else plan_id,
        asset=asset,
        stylesheet=STYLESHEET,
        script=SCRIPT,
    )


# Tagged, so that a screen reader finds the headings, lists, tables and the picture's words in
# order. It costs about a sixth more time to draw, and a PDF about twice the size
# (docs/accessibility.md). bench/pdf_bench.py draws with the same options.
PDF_OPTIONS: dict[str, Any] = {"pdf_tags": True}


def _write_pdf(html: str, static_folder: str) -> bytes:
    """WeasyPrint's part, in whichever process draws the PDF (no app needed)."""
    fetcher = AssetFetcher(static_folder)
    fonts = font_config()
    with _render_lock:
        pdf = HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher, media_type="print").write_pdf(
            font_config=fonts, **PDF_OPTIONS
        )
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf


def html_to_pdf(html: str, *, separate_process: bool = False) -> bytes:
    """PDF bytes for a document page rendered with `for_pdf=True`.

    With `separate_process`, the render process draws it while this thread waits without
    holding the GIL; requests for PDFs queue there one at a time, as they would for the lock.
    """
    static_folder = _static_folder()
    if not separate_process:
        return _write_pdf(html, static_folder)
    try:
        return _render_process().submit(_write_pdf, html, static_folder).result()
    except BrokenProcessPool:
        # The render process died (killed, out of memory): the next PDF starts a new one.
        stop_render_process()
        raise


def render_pdf(doc: dict[str, Any], *, today: date | None = None, separate_process: bool = False) -> bytes:
    """The plan document as PDF bytes."""
    return html_to_pdf(render_html(doc, for_pdf=True, today=today), separate_process=separate_process)


# ---------------------------------------------------------------- the render process

# A new render process after this many PDFs: memory a large render took stays with a process.
RENDERS_PER_PROCESS = 50

_render_pool: ProcessPoolExecutor | None = None
_render_pool_pid: int | None = None
_render_pool_lock = threading.Lock()


def use_render_process(app: Flask | None = None) -> bool:
    """Whether the app's routes draw PDFs in the render process.

    They do, unless `PDF_RENDER_PROCESS` says otherwise; tests draw in-process by default, so
    that they can watch WeasyPrint (what it fetches, how often it is called).
    """
    app = app or current_app
    return bool(app.config.get("PDF_RENDER_PROCESS", not app.testing))


def _render_process() -> ProcessPoolExecutor:
    global _render_pool, _render_pool_pid
    with _render_pool_lock:
        # A process forked from one that had a render process must start its own.
        if _render_pool is None or _render_pool_pid != os.getpid():
            _render_pool = ProcessPoolExecutor(
                max_workers=1,
                # "spawn" starts a fresh interpreter: forking a threaded web worker is unsafe.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_render_process,
                max_tasks_per_child=RENDERS_PER_PROCESS,
            )
            _render_pool_pid = os.getpid()
        return _render_pool


def _start_render_process() -> None:
    """Runs first in a new render process."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A web worker that is killed (a timeout, out of memory) cannot stop its render process,
        # and the pool's queues do not tell it either: watch for the parent's end, and follow it.
        def follow_parent() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=follow_parent, name="follow-parent", daemon=True).start()
    font_config()  # scan the fonts now, while nobody waits for a PDF


def stop_render_process() -> None:
    """Stop this process's render process, if it has one (a new one starts when needed)."""
    global _render_pool, _render_pool_pid
    with _render_pool_lock:
        pool, _render_pool, _render_pool_pid = _render_pool, None, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def document_filename(title: str | None, extension: str) -> str:
    """The name a download of the plan's document gets ("cafe-plan-2026.docx")."""
    return f"{slug(title or '')}.{extension}"


def pdf_filename(doc: dict[str, Any]) -> str:
    return document_filename(doc.get("title"), "pdf")
