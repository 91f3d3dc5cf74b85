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

The render process has limits, so that one very long plan cannot take the server with it:

* a memory ceiling (`PDF_RENDER_MEMORY_MB`, the process's address space, `RLIMIT_AS`): past it
  an allocation fails and the render ends with `PdfTooLong("memory")`.  A process that ends is
  taken for memory only if it was seen near its ceiling (`NEAR_CEILING`; its size is looked at
  every tenth of a second): any other end (a crash, a kill) is an ordinary failure;
* a time limit (`PDF_RENDER_TIMEOUT_SECONDS` of CPU time, `RLIMIT_CPU`, set afresh for each
  render): past it the kernel stops the process, and the render ends with `PdfTooLong("time")`.
  CPU time rather than the clock, so that a busy machine does not make a plan "too long".  The
  clock is watched too: a render process that uses no CPU at all for as long as the limit (it
  waits on something, and the CPU limit would never come) is stopped the same way;
* a process that grew (its peak memory above `PDF_RENDER_KEEP_MB` after a render) is replaced,
  so that the memory a long plan took goes back to the machine.  Its successor starts at once
  and scans the fonts while nobody waits.

A render that hits a limit leaves a new process behind for the next one.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, render_template, url_for
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from planner.documents.content import build, words
from planner.documents.fetcher import ASSET_BASE, AssetFetcher
from planner.domain import REVIEW_STEP, plan_field

# File names come from the same slug as the JSON download's, so every format is named alike.
from planner.interchange.transfer import slugify as slug

log = logging.getLogger(__name__)

TITLE = plan_field("title")

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
        words=words,
        review_slug=REVIEW_STEP.slug,  # the wizard's page the document links back to
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


class PdfTooLong(Exception):
    """The PDF could not be drawn within the render limits: `limit` is "time" or "memory"."""

    def __init__(self, limit: str) -> None:
        super().__init__(f"the PDF could not be drawn within the {limit} limit")
        self.limit = limit


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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_memory_kb() -> int:
    """This process's peak resident memory so far (VmHWM), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _write_pdf_limited(html: str, static_folder: str, cpu_seconds: float) -> tuple[bytes, int]:
    """`_write_pdf` in the render process, within `cpu_seconds` of CPU time; with the peak memory.

    The soft CPU limit counts from what the process has used so far (the font scan, earlier
    PDFs) and is lifted again afterwards; the kernel sends SIGXCPU, which ends the process,
    when a render goes past it.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(_cpu_seconds() + cpu_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    try:
        pdf = _write_pdf(html, static_folder)
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    return pdf, peak_memory_kb()


def _cpu_ticks(processes: list[Any]) -> int | None:
    """The CPU time the processes have used, in clock ticks (/proc/<pid>/stat), or None."""
    total = 0
    for process in processes:
        try:
            with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat_file:
                fields = stat_file.read().rpartition(")")[2].split()
        except (OSError, TypeError):
            return None
        total += int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat(5)
    return total


def _address_space_kb(processes: list[Any]) -> tuple[int, int]:
    """The processes' address space now and at its peak so far (VmSize, VmPeak), in KiB; 0 if unknown."""
    size = peak = 0
    for process in processes:
        try:
            with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmSize:"):
                        size = max(size, int(line.split()[1]))
                    elif line.startswith("VmPeak:"):
                        peak = max(peak, int(line.split()[1]))
        except (OSError, TypeError, ValueError):
            pass
    return size, peak


class _Largest:
    """The largest address space the render process was seen to take during one render, in KiB,
    and the CPU time it was seen to use: looked at every tick while the render runs, so that a
    process that ends can be told apart (its exit code is not always known: the pool's own
    thread may reap it first)."""

    def __init__(self, processes: list[Any]) -> None:
        self.processes = processes
        _, self.peak_before = _address_space_kb(processes)  # an earlier render's peak is not this one's
        self.kb = 0
        self.ticks_before = _cpu_ticks(processes)
        self.ticks = self.ticks_before

    def look(self) -> None:
        size, peak = _address_space_kb(self.processes)
        self.kb = max(self.kb, size, peak if peak > self.peak_before else 0)
        ticks = _cpu_ticks(self.processes)
        if ticks is not None and self.ticks is not None:
            self.ticks = max(self.ticks, ticks)

    def cpu_seconds(self) -> float:
        """The CPU time this render was seen to use."""
        if self.ticks is None or self.ticks_before is None:
            return 0.0
        return (self.ticks - self.ticks_before) / os.sysconf("SC_CLK_TCK")


# A render process that ends, seen this close to its memory ceiling (or to its CPU time), ended for that limit.
NEAR_CEILING = 0.8


def _result(future: Any, processes: list[Any], *, stalled_after: float, tick: Callable[[], None] | None = None) -> Any:
    """The future's result, however long the render takes while it uses CPU (the CPU limit ends
    it); FutureTimeout once its process has used none for `stalled_after` seconds on the clock.
    On a busy machine a render gets a small share of a core, and is slow, not stuck.  `tick`, if
    given, is called every tenth of a second meanwhile."""
    progress, last = time.monotonic(), _cpu_ticks(processes)
    while True:
        if tick is not None:
            tick()
        try:
            return future.result(timeout=min(0.1, stalled_after))
        except FutureTimeout:
            now, ticks = time.monotonic(), _cpu_ticks(processes)
            if ticks is None:  # no /proc: the clock alone, generously
                if now - progress > 10 * stalled_after:
                    raise
            elif ticks != last:
                progress, last = now, ticks
            elif now - progress > stalled_after:
                raise


def _limits(app: Flask) -> tuple[float, int, int]:
    """The render process's limits from the config: CPU seconds, memory ceiling and keep, in bytes."""
    seconds = float(app.config.get("PDF_RENDER_TIMEOUT_SECONDS", 120))
    memory = int(float(app.config.get("PDF_RENDER_MEMORY_MB", 1536)) * 1024 * 1024)
    keep = int(float(app.config.get("PDF_RENDER_KEEP_MB", 512)) * 1024 * 1024)
    return seconds, memory, keep


def render_limits(app: Flask) -> tuple[float, float]:
    """The limits a PDF is drawn under, as a failure mark records them: CPU seconds, memory MB."""
    seconds, memory, _ = _limits(app)
    return seconds, memory / 2**20


def html_to_pdf(html: str, *, separate_process: bool = False) -> bytes:
    """PDF bytes for a document page rendered with `for_pdf=True`.

    With `separate_process`, the render process draws it, within its limits, while this thread
    waits without holding the GIL; this process's PDFs go there one at a time, as they would
    through the lock.  `PdfTooLong` when a limit stopped it.
    """
    static_folder = _static_folder()
    if not separate_process:
        try:
            return _write_pdf(html, static_folder)
        except MemoryError:
            raise PdfTooLong("memory") from None
    seconds, memory, keep = _limits(current_app)
    with _submit_lock:
        pool = _render_process(memory)
        future = pool.submit(_write_pdf_limited, html, static_folder, seconds)
        processes = list(getattr(pool, "_processes", {}).values())
        largest = _Largest(processes)
        try:
            pdf, peak_kb = _result(future, processes, stalled_after=max(seconds, 30.0), tick=largest.look)
        except FutureTimeout:
            log.warning("a PDF render used no CPU for %.0f s: stopping its process", max(seconds, 30.0))
            _replace_render_process(pool, kill=processes)
            raise PdfTooLong("time") from None
        except BrokenProcessPool:
            # The process ended: SIGXCPU is the time limit; an end seen near the memory ceiling
            # (an allocation in C failed past it) is memory.  Anything else (a crash, an
            # operator's kill, the kernel's out-of-memory killer for the machine's sake) says
            # nothing about the plan: an ordinary failure, tried again later.
            for process in processes:
                process.join(5)  # reaped, so that its exit code is known
            codes = [process.exitcode for process in processes]
            # When the pool's own thread reaped it first, the code shows a moment later.
            deadline = time.monotonic() + 1
            while None in codes and time.monotonic() < deadline:
                time.sleep(0.05)
                codes = [process.exitcode for process in processes]
            _replace_render_process(pool)
            # SIGXCPU is the time limit; so is an end whose code was reaped by the pool's own
            # thread, once the render was seen to use nearly all its CPU time.
            if -signal.SIGXCPU in codes or (None in codes and largest.cpu_seconds() >= NEAR_CEILING * seconds):
                limit = "time"
            elif memory > 0 and largest.kb * 1024 >= NEAR_CEILING * memory:
                limit = "memory"
            else:
                log.warning(
                    "the render process ended during a PDF (exit %s), seen at %d MB of its %d MB ceiling",
                    codes,
                    largest.kb // 1024,
                    memory // 2**20,
                )
                raise
            log.warning("the render process ended during a PDF (exit %s): the %s limit", codes, limit)
            raise PdfTooLong(limit) from None
        except MemoryError:
            _replace_render_process(pool)
            log.warning("a PDF render reached the memory ceiling of %d MB", memory // 2**20)
            raise PdfTooLong("memory") from None
        if peak_kb * 1024 > keep:
            log.info("the render process grew to %d MB: replacing it", peak_kb // 1024)
            _replace_render_process(pool)
    return pdf


def render_pdf(doc: dict[str, Any], *, today: date | None = None, separate_process: bool = False) -> bytes:
    """The plan document as PDF bytes."""
    return html_to_pdf(render_html(doc, for_pdf=True, today=today), separate_process=separate_process)


# ---------------------------------------------------------------- the render process

# A new render process after this many PDFs: memory a large render took stays with a process.
RENDERS_PER_PROCESS = 50

_render_pool: ProcessPoolExecutor | None = None
_render_pool_key: tuple[int, int] | None = None  # (this process's id, the memory ceiling)
_render_pool_lock = threading.Lock()
_submit_lock = threading.Lock()  # one PDF at a time in the render process, so its clock is its own


def use_render_process(app: Flask | None = None) -> bool:
    """Whether the app's routes draw PDFs in the render process.

    They do, unless `PDF_RENDER_PROCESS` says otherwise; tests draw in-process by default, so
    that they can watch WeasyPrint (what it fetches, how often it is called).
    """
    app = app or current_app
    return bool(app.config.get("PDF_RENDER_PROCESS", not app.testing))


def _render_process(memory: int) -> ProcessPoolExecutor:
    global _render_pool, _render_pool_key
    with _render_pool_lock:
        # A process forked from one that had a render process must start its own; a new
        # ceiling needs a new process too (a process can lower its ceiling, never raise it).
        if _render_pool is None or _render_pool_key != (os.getpid(), memory):
            old, _render_pool = (
                _render_pool,
                ProcessPoolExecutor(
                    max_workers=1,
                    # "spawn" starts a fresh interpreter: forking a threaded web worker is unsafe.
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_render_process,
                    initargs=(memory,),
                    max_tasks_per_child=RENDERS_PER_PROCESS,
                ),
            )
            if old is not None and _render_pool_key is not None and _render_pool_key[0] == os.getpid():
                old.shutdown(wait=False)
            _render_pool_key = (os.getpid(), memory)
        return _render_pool


def _replace_render_process(pool: ProcessPoolExecutor, *, kill: list[Any] | None = None) -> None:
    """Retire `pool`'s process (killed first, if `kill` names it) and start its successor now.

    The successor scans the fonts while nobody waits, so the next PDF costs what it did.
    """
    global _render_pool, _render_pool_key
    with _render_pool_lock:
        if _render_pool is pool:
            key, _render_pool, _render_pool_key = _render_pool_key, None, None
        else:
            key = None
    for process in kill or ():
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    if key is not None and key[0] == os.getpid():
        _render_process(key[1]).submit(os.getpid)  # any small task: the process starts for it


def _start_render_process(memory: int = 0) -> None:
    """Runs first in a new render process: its memory ceiling, no core files, the fonts."""
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a render stopped at its limit leaves no core
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A web worker that is killed (a timeout, out of memory) cannot stop its render process,
        # and the pool's queues do not tell it either: watch for the parent's end, and follow it.
        def follow_parent() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(0)

        threading.Thread(target=follow_parent, name="follow-parent", daemon=True).start()
    font_config()  # scan the fonts now, while nobody waits for a PDF


def render_process_pids() -> list[int]:
    """The process ids of this process's render process (none, or one): for tests and benches."""
    with _render_pool_lock:
        pool = _render_pool
    processes = list((getattr(pool, "_processes", None) or {}).values())
    return [process.pid for process in processes if process.is_alive()]


def stop_render_process() -> None:
    """Stop this process's render process, if it has one (a new one starts when needed)."""
    global _render_pool, _render_pool_key
    with _render_pool_lock:
        pool, _render_pool, _render_pool_key = _render_pool, None, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def document_filename(title: str | None, extension: str) -> str:
    """The name a download of the plan's document gets ("cafe-plan-2026.docx")."""
    return f"{slug(title or '')}.{extension}"


def pdf_filename(doc: dict[str, Any]) -> str:
    return document_filename(TITLE.of(doc), "pdf")
