"""The render process's limits: a PDF past its time or memory is stopped, and the process replaced.

These draw in a real render process (the limits are the kernel's: `RLIMIT_CPU`, `RLIMIT_AS`),
with limits made tiny for the test and HTML made heavy for it, so that each takes seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planner.documents import cache, prerender, render
from planner.documents.render import PdfTooLong, html_to_pdf, render_process_pids, stop_render_process
from planner.plans import store

# Once is enough: this module limits a render process, so it runs in the SQLite pass of `make test`
# only, which keeps the two passes, side by side on two cores, within the suite's time.
pytestmark = [
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="limits a render process, where the database plays no part: runs in the SQLite pass",
    ),
    pytest.mark.pdf,
    pytest.mark.server,  # each test starts render processes of its own
]


SMALL = "<p>A page</p>"
# Two minutes of WeasyPrint's time or more, undisturbed.
SLOW = "<table>" + "".join(f"<tr><td>Row {i}</td><td>{'word ' * 30}</td></tr>" for i in range(20000)) + "</table>"
# One word of a million and a half letters: a few seconds, and more memory than the small page by
# far (Pango lays the line out in one piece).
WIDE = "<p>" + "x" * 1_500_000 + "</p>"


@pytest.fixture
def render_process(app: Flask, ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setitem(app.config, "PDF_RENDER_PROCESS", True)
    stop_render_process()
    yield app
    stop_render_process()


def vm_size_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmSize")


def gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text():
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_render_past_its_time_limit_is_stopped_and_its_process_replaced(
    render_process: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(render_process.config, "PDF_RENDER_TIMEOUT_SECONDS", 1)
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
    (first,) = render_process_pids()
    started = time.monotonic()
    with pytest.raises(PdfTooLong) as stopped:
        html_to_pdf(SLOW, separate_process=True)
    assert stopped.value.limit == "time"
    assert time.monotonic() - started < 60  # stopped at a second or two of CPU, not drawn for minutes
    assert gone(first)
    assert first not in render_process_pids()  # its successor is already starting
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")  # and the next PDF works


def test_the_memory_ceiling_makes_an_oversize_render_fail_cleanly(
    render_process: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
    (pid,) = render_process_pids()
    # Room for a small page, not for the wide one (which draws without a ceiling).
    monkeypatch.setitem(render_process.config, "PDF_RENDER_MEMORY_MB", vm_size_mb(pid) + 32)
    with pytest.raises(PdfTooLong) as stopped:
        html_to_pdf(WIDE, separate_process=True)
    assert stopped.value.limit == "memory"
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")  # a new process, the same ceiling
    (after,) = render_process_pids()
    assert after != pid
    assert vm_size_mb(after) <= render_process.config["PDF_RENDER_MEMORY_MB"]


def test_a_render_process_that_grew_is_replaced_and_one_that_did_not_is_kept(
    render_process: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
    (first,) = render_process_pids()
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
    assert render_process_pids() == [first]  # nothing grew: no new process, no new font scan

    monkeypatch.setitem(render_process.config, "PDF_RENDER_KEEP_MB", 0)  # any process has "grown"
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")  # the PDF is still sent
    assert gone(first)  # and its memory given back
    (second,) = render_process_pids()
    assert second != first


def test_a_plan_too_long_for_the_time_limit_gets_the_too_long_page_and_nothing_hangs(
    app: Flask,
    client: FlaskClient,
    ctx: Flask,
    owner: Any,
    add_member: Any,
    render_process: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT_SECONDS", 1)
    drawn: list[str] = []

    def long_plan(doc: dict[str, Any], **kwargs: Any) -> str:
        drawn.append(doc["title"])
        return SLOW  # the plan's page, as long as a plan past the limits would make it

    monkeypatch.setattr(render, "render_html", long_plan)
    plan = store.create_plan("Endless plan")
    add_member(plan, owner)
    url = f"/plans/{plan.id}/document.pdf"
    started = time.monotonic()
    with client.get(url) as response:
        page = response.get_data(as_text=True)
    assert time.monotonic() - started < 60
    assert response.status_code == 422
    assert "This plan is too long to print as PDF" in page
    assert "Word (.docx)" in page and "Markdown" in page and "Printable page" in page
    with client.get(url) as again:  # remembered: answered at once, not drawn again
        assert again.status_code == 422
    assert drawn == ["Endless plan"]
    assert client.get(f"/plans/{plan.id}/document/pdf-status").get_json()["failed"] is True


def test_a_render_process_that_waits_on_nothing_is_given_up_but_a_slow_one_is_not() -> None:
    from concurrent.futures import Future
    from concurrent.futures import TimeoutError as FutureTimeout

    waiting = subprocess.Popen(["sleep", "30"])  # uses no CPU: stuck, as far as a render goes
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # slow, on a busy machine
    try:
        started = time.monotonic()
        with pytest.raises(FutureTimeout):
            render._result(Future(), [waiting], stalled_after=0.5)
        assert time.monotonic() - started < 5

        finished: Future[str] = Future()
        threading.Timer(2.0, finished.set_result, ["drawn"]).start()
        assert render._result(finished, [busy], stalled_after=0.5) == "drawn"  # four times "stalled_after"
    finally:
        for process in (waiting, busy):
            process.kill()
            process.wait()


@pytest.mark.parametrize("ending", [signal.SIGKILL, signal.SIGSEGV], ids=["killed", "crashed"])
def test_a_render_process_that_ends_far_from_its_ceiling_is_a_fault_tried_again_not_too_long(
    app: Flask,
    client: FlaskClient,
    ctx: Flask,
    owner: Any,
    add_member: Any,
    render_process: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ending: signal.Signals,
) -> None:
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(app.config, "PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_SETTLE_SECONDS", 0.0)
    monkeypatch.setitem(app.config, "PDF_PRERENDER_POLL_SECONDS", 0.0)
    monkeypatch.setattr(render, "render_html", lambda doc, **kwargs: SLOW)
    plan = store.create_plan("Harbour plan")
    add_member(plan, owner)
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
    (pid,) = render_process_pids()
    # An operator's kill, or a crash, two seconds into a render that has room to spare.
    threading.Timer(2.0, os.kill, [pid, ending]).start()
    started = time.monotonic()
    assert prerender.sweep(app) is None
    assert time.monotonic() - started < 60
    with client.get(f"/plans/{plan.id}/document.pdf") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 503  # not "too long to print" (422) until the plan changes
    assert response.headers["Retry-After"] == str(cache.ERROR_RETRY_SECONDS)
    assert "could not be drawn just now" in page
    assert html_to_pdf(SMALL, separate_process=True).startswith(b"%PDF-")
