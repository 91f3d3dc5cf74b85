"""How much the PDF export costs, measured against baselines in the same run.

    .venv/bin/python bench/pdf_bench.py            # everything, about ten minutes on 2 cores
    .venv/bin/python bench/pdf_bench.py --quick    # fewer repeats, for a smoke test

Four measurements, each a ratio against a baseline taken in the same run, on the same machine:

1. **Render.** The app's PDF route, cold (cache off), through the Flask test client, against
   WeasyPrint alone on the same HTML with the same URL fetcher and font configuration; for the
   example plan and the large plan (`tests.plan_factory.large_plan`).  The two alternate, so
   that a busy moment on the machine hits both.  Medians, and the app path's parts (load_doc,
   content.build with the coach, Jinja, WeasyPrint) to say where any difference goes.
2. **Cached download** of the large plan's PDF against a plain static file of the same bytes
   (`bench/wsgi.py`), in-process and over HTTP.
3. **Peak memory** (the process's high-water RSS, VmHWM) of each scenario, each in its own
   subprocess so peaks don't mix.
4. **Stall.** gunicorn on 127.0.0.1 with a temporary SQLite database: while the large plan's PDF
   renders cold, a stream of requests for a wizard step page, timed; p50/p95 against the same
   stream with the server idle.  Each worker setup in `SERVER_SETUPS` is measured.

The results print as Markdown (for docs/performance.md) and, with --json, as JSON.
Nothing here runs in the test suite.  Load goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Worker setups for the stall measurement: (name, gunicorn arguments, whether the app draws PDFs
# in its render process). The first is what gunicorn.conf.py recommends; the others show why.
SERVER_SETUPS = (
    ("2 gthread workers x 32 threads, render process (gunicorn.conf.py)", [], True),
    ("2 gthread workers x 32 threads, PDF drawn in the worker", [], False),
    # A sync worker is killed after --timeout seconds of one request: allow the largest render.
    (
        "2 sync workers, PDF drawn in the worker",
        ["--worker-class", "sync", "--threads", "1", "--timeout", "900"],
        False,
    ),
)
STEP_SLUG_INDEX = 5  # the engagement step: the page with the most on it for a small plan


# ---------------------------------------------------------------- small helpers


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def peak_rss_kb() -> int:
    """The process's high-water resident set size, in kB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> None:
    """Start the high-water mark again from the current RSS (Linux: `5` to clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def current_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# ---------------------------------------------------------------- the app and the plans


def plain_file() -> Any:
    """A file sent the way Flask sends any static file: the floor for a cached download."""
    from flask import send_from_directory

    return send_from_directory(os.environ["BENCH_PLAIN_DIR"], "plain.pdf", mimetype="application/pdf")


def plain_file_after_access_check(plan_id: int) -> Any:
    """The same file, after the check every plan download makes: who is asking, may they read it."""
    from planner.accounts.access import plan_or_404

    plan_or_404(plan_id)
    return plain_file()


def with_plain_file_route(app: Any) -> Any:
    app.add_url_rule("/bench/plain.pdf", "bench_plain_file", plain_file)
    app.add_url_rule("/bench/plans/<int:plan_id>/plain.pdf", "bench_plain_plan_file", plain_file_after_access_check)
    return app


def make_app(database_url: str, cache_dir: str = "", plain_dir: str = "", render_process: bool = True) -> Any:
    """The app as deployed (`Config`), on the bench's database, with the plain-file route."""
    from config import Config
    from planner import create_app

    os.environ["BENCH_PLAIN_DIR"] = plain_dir
    app = create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=database_url,
        PDF_CACHE_DIR=cache_dir,
        PDF_RENDER_PROCESS=render_process,
        PDF_PRERENDER=False,  # nothing drawn behind the measurements' backs
        PDF_PRERENDER_POLL_SECONDS=0.0,  # and no worker: a download draws its PDF in the request
        SECRET_KEY="bench",
    )
    return with_plain_file_route(app)


def prepare_database(database_url: str) -> dict[str, Any]:
    """Migrate the database, store the two plans and a person who may read them.

    Returns the plans' ids by name, and under "session" what a signed-in session remembers.
    """
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from planner.accounts.models import Membership, User
    from planner.extensions import db
    from planner.interchange.example import example_document
    from planner.plans import store
    from tests.plan_factory import large_plan

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        ids: dict[str, Any] = {
            "example": store.create_from_doc(example_document()["plan"]).id,
            "large": store.create_from_doc(large_plan()).id,
        }
        user = User(email="bench@example.org", name="Bench", password_hash=generate_password_hash("bench bench"))
        db.session.add(user)
        db.session.flush()
        db.session.add_all(Membership(plan_id=i, user_id=user.id, role="facilitator") for i in ids.values())
        db.session.commit()
        ids["session"] = user.get_id()
        db.session.remove()
        db.engine.dispose()
    return ids


def signed_in(app: Any, session_id: str) -> Any:
    """A test client whose session is signed in (as the log-in page would leave it)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def session_cookie(app: Any, session_id: str) -> str:
    """The session cookie of a signed-in browser, for requests to a server with the same SECRET_KEY."""
    cookie = signed_in(app, session_id).get_cookie(app.config["SESSION_COOKIE_NAME"])
    return f"{cookie.key}={cookie.value}"


def plan_sizes(doc: dict[str, Any]) -> str:
    from planner.domain import ENTITIES

    return ", ".join(f"{len(doc[e.collection])} {e.collection.replace('_', ' ')}" for e in ENTITIES)


# ---------------------------------------------------------------- 1. render: app against WeasyPrint


def weasyprint_alone(html: str) -> bytes:
    """What WeasyPrint costs by itself: the same HTML, fetcher, base URL, fonts and options
    (a tagged PDF) as the app."""
    from flask import current_app
    from weasyprint import HTML

    from planner.documents.fetcher import ASSET_BASE, AssetFetcher
    from planner.documents.render import PDF_OPTIONS, font_config

    fetcher = AssetFetcher(current_app.static_folder or "")
    document = HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher, media_type="print")
    pdf = document.write_pdf(font_config=font_config(), **PDF_OPTIONS)
    assert pdf is not None
    return pdf


def app_parts(app: Any, plan_id: int, today: date) -> dict[str, float]:
    """The app path's own work before WeasyPrint, timed piece by piece."""
    from planner.coach import coach_report
    from planner.documents import content
    from planner.documents.render import render_html
    from planner.plans import store

    parts: dict[str, float] = {}
    with app.test_request_context():
        plan = store.get_plan(plan_id)
        start = time.perf_counter()
        doc = store.load_doc(plan)
        parts["load_doc"] = time.perf_counter() - start
        parts["coach_report"] = timed(lambda: coach_report(doc))
        parts["content.build (with coach)"] = timed(lambda: content.build(doc, today=today))
        parts["render_html (build + Jinja)"] = timed(lambda: render_html(doc, for_pdf=True, today=today))
    return parts


def measure_render(app: Any, plan_id: int, repeat: int, session_id: str) -> dict[str, Any]:
    """The app's route (drawing where `app` is configured to) against WeasyPrint alone."""
    from planner.documents.render import render_html
    from planner.plans import store

    today = date.today()
    client = signed_in(app, session_id)
    url = f"/plans/{plan_id}/document.pdf"
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan_id))
        html = render_html(doc, for_pdf=True, today=today)

    def through_app() -> None:
        with client.get(url) as response:
            assert response.status_code == 200, response.status
            assert response.get_data()[:5] == b"%PDF-"

    def alone() -> None:
        with app.app_context():
            weasyprint_alone(html)

    through_app(), alone()  # warm: fonts, templates, the coach's tables
    app_times: list[float] = []
    alone_times: list[float] = []
    for i in range(repeat):
        # Alternate which goes first, so drift in the machine's load is shared.
        order = ((app_times, through_app), (alone_times, alone))
        for times, action in order if i % 2 == 0 else reversed(order):
            times.append(timed(action))
    parts = [app_parts(app, plan_id, today) for _ in range(3)]
    return {
        "plan": doc["title"],
        "sizes": plan_sizes(doc),
        "html_bytes": len(html.encode()),
        "app": app_times,
        "weasyprint": alone_times,
        "app_median": median(app_times),
        "weasyprint_median": median(alone_times),
        "ratio": median(app_times) / median(alone_times),
        "parts": {name: median([p[name] for p in parts]) for name in parts[0]},
    }


def profile_app_path(app: Any, plan_id: int, top: int = 25) -> str:
    """cProfile of the app's work before WeasyPrint, for the large plan (sorted by own time)."""
    import cProfile
    import pstats

    from planner.documents.render import render_html
    from planner.plans import store

    profiler = cProfile.Profile()
    with app.test_request_context():
        plan = store.get_plan(plan_id)
        profiler.enable()
        render_html(store.load_doc(plan), for_pdf=True)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# ---------------------------------------------------------------- 2. cached download against a plain file


def _compare_downloads(get: Callable[[str], int], plan_id: int, repeat: int) -> dict[str, Any]:
    """The cached PDF against the plain file, alone and behind the plan's access check."""
    paths = {
        "cached": f"/plans/{plan_id}/document.pdf",
        "plain": "/bench/plain.pdf",
        "plain_checked": f"/bench/plans/{plan_id}/plain.pdf",
    }
    sizes = {name: get(path) for name, path in paths.items()}  # warm, and fill the cache
    assert len(set(sizes.values())) == 1, sizes
    times: dict[str, list[float]] = {name: [] for name in paths}
    for i in range(repeat + 20):
        for name, path in paths.items():
            elapsed = timed(lambda path=path: get(path))
            if i >= 20:
                times[name].append(elapsed)
    result: dict[str, Any] = {"bytes": sizes["cached"]}
    result.update({f"{name}_median": median(values) for name, values in times.items()})
    result["ratio"] = result["cached_median"] / result["plain_median"]
    result["ratio_checked"] = result["cached_median"] / result["plain_checked_median"]
    return result


def measure_cached_in_process(app: Any, plan_id: int, plain_dir: Path, repeat: int, session_id: str) -> dict[str, Any]:
    client = signed_in(app, session_id)
    with client.get(f"/plans/{plan_id}/document.pdf") as response:  # renders once, into the cache
        (plain_dir / "plain.pdf").write_bytes(response.get_data())

    def get(path: str) -> int:
        with client.get(path) as response:
            assert response.status_code == 200, (path, response.status)
            return len(response.get_data())

    return _compare_downloads(get, plan_id, repeat)


COOKIE: dict[str, str] = {}  # the signed-in session, once the database is prepared


def http_get(port: int, path: str, *, timeout: float = 600) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=COOKIE)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def measure_cached_http(port: int, plan_id: int, repeat: int) -> dict[str, Any]:
    # The server's worker draws the PDF; a download meanwhile says "being drawn" (202).
    deadline = time.monotonic() + 900
    while http_get(port, f"/plans/{plan_id}/document.pdf")[0] == 202 and time.monotonic() < deadline:
        time.sleep(1)

    def get(path: str) -> int:
        status, body = http_get(port, path)
        assert status == 200, (path, status)
        return len(body)

    return _compare_downloads(get, plan_id, repeat)


# ---------------------------------------------------------------- 3. peak memory, one subprocess each

MEMORY_SCENARIOS = {
    "idle": "the app started and the large plan loaded, no PDF",
    "app_pdf": "the app's PDF route, cold, drawn in the render process",
    "app_pdf_in_process": "the app's PDF route, cold, drawn in the web process",
    "weasyprint": "WeasyPrint alone on the same HTML",
    "cached": "the cached PDF downloaded",
}


def memory_child(scenario: str, database_url: str, plan_id: int, workdir: str, session_id: str) -> dict[str, int]:
    """Runs in its own process: the peak RSS of one scenario, the RSS before it began, and the
    peak of the render process, if one drew the PDF."""
    import resource

    from planner.documents.render import font_config, render_html, stop_render_process
    from planner.domain import STEPS
    from planner.plans import store

    cache_dir = str(Path(workdir, "memory-cache")) if scenario == "cached" else ""
    app = make_app(database_url, cache_dir=cache_dir, render_process=scenario == "app_pdf")
    client = signed_in(app, session_id)
    url = f"/plans/{plan_id}/document.pdf"
    with app.test_request_context():
        html = render_html(store.load_doc(store.get_plan(plan_id)), for_pdf=True)
        font_config()
    if scenario == "cached":
        app.config["PDF_RENDER_PROCESS"] = True
        with client.get(url) as response:  # fills the cache, drawn in the render process
            response.get_data()
        stop_render_process()
    with client.get(f"/plans/{plan_id}/steps/{STEPS[1].slug}") as response:
        response.get_data()
    before = current_rss_kb()
    reset_peak_rss()
    if scenario in ("app_pdf", "app_pdf_in_process", "cached"):
        with client.get(url) as response:
            assert response.status_code == 200
            response.get_data()
    elif scenario == "weasyprint":
        with app.app_context():
            weasyprint_alone(html)
    peak = peak_rss_kb()
    stop_render_process()  # waits for it, so that its peak counts among this process's children
    return {
        "before_kb": before,
        "peak_kb": peak,
        "render_process_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def measure_memory(database_url: str, plan_id: int, workdir: Path, session_id: str) -> dict[str, dict[str, int]]:
    results = {}
    for scenario in MEMORY_SCENARIOS:
        child_args = [scenario, database_url, str(plan_id), str(workdir), session_id]
        output = subprocess.run(
            [sys.executable, __file__, "--memory-child", *child_args],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[scenario] = json.loads(output.strip().splitlines()[-1])
    return results


# ---------------------------------------------------------------- 4. does a render stall the rest?


@contextlib.contextmanager
def gunicorn(database_url: str, extra: list[str], env: dict[str, str], log: Path, root: Path = ROOT) -> Iterator[int]:
    """gunicorn serving `bench.wsgi:app` from `root` (a copy of the repository, or the repository)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(root / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        "bench.wsgi:app",
    ]
    # Background drawing (planner/documents/prerender.py) off unless `env` says otherwise: a PDF
    # drawn ahead would land in the middle of these measurements.
    environment = {**os.environ, "PDF_PRERENDER": "0", **env, "DATABASE_URL": database_url, "SECRET_KEY": "bench"}
    with log.open("ab") as log_file:
        server = subprocess.Popen(command, cwd=root, env=environment, stdout=log_file, stderr=log_file)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http_get(port, "/", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log}") from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def measure_stall(port: int, step_path: str, pdf_path: str, idle_count: int) -> dict[str, Any]:
    def page() -> float:
        start = time.perf_counter()
        status, _ = http_get(port, step_path)
        assert status == 200, status
        return time.perf_counter() - start

    for _ in range(10):
        page()
    idle = [page() for _ in range(idle_count)]

    pdf: dict[str, Any] = {}

    def download() -> None:
        start = time.perf_counter()
        pdf["status"], body = http_get(port, pdf_path)
        pdf["seconds"] = time.perf_counter() - start
        pdf["bytes"] = len(body)

    thread = threading.Thread(target=download)
    thread.start()
    time.sleep(0.3)  # let the render begin
    during = []
    while thread.is_alive():
        during.append(page())
    thread.join()
    if pdf["status"] != 200:
        raise RuntimeError(f"the PDF download failed after {pdf['seconds']:.0f} s: HTTP {pdf['status']}")
    summary = {
        "pdf_seconds": pdf["seconds"],
        "idle": {"n": len(idle), "p50": percentile(idle, 50), "p95": percentile(idle, 95), "max": max(idle)},
        "during": {"n": len(during), "p50": percentile(during, 50), "p95": percentile(during, 95), "max": max(during)},
    }
    summary["p50_ratio"] = summary["during"]["p50"] / summary["idle"]["p50"]
    summary["p95_ratio"] = summary["during"]["p95"] / summary["idle"]["p95"]
    return summary


# ---------------------------------------------------------------- the report


def report_render(render: dict[str, Any]) -> list[str]:
    lines = [
        "### 1. Render: the app's PDF route (cold) against WeasyPrint alone on the same HTML",
        "",
        "| plan | app route, median | WeasyPrint alone, median | ratio (goal ≤ 1.15x) | runs |",
        "|---|---|---|---|---|",
    ]
    for name, r in render.items():
        lines.append(
            f"| {name} | {secs(r['app_median'])} | {secs(r['weasyprint_median'])} | "
            f"**{r['ratio']:.3f}x** | {len(r['app'])} each |"
        )
    names = list(next(iter(render.values()))["parts"])
    lines += ["", "Where the app's own time goes before WeasyPrint (medians of 3):", ""]
    lines += ["| plan | " + " | ".join(names) + " |", "|---" * (1 + len(names)) + "|"]
    for name, r in render.items():
        lines.append(f"| {name} | " + " | ".join(secs(r["parts"][part]) for part in names) + " |")
    lines += ["", "Plans:", ""]
    for name, r in render.items():
        lines.append(f"- {name}: {r['sizes']} ({r['html_bytes'] // 1024} kB of HTML)")
    return lines


def report_cached(cached: dict[str, Any], render: dict[str, Any] | None) -> list[str]:
    local = cached["in_process"]
    lines = [
        f"### 2. Cached download of the large plan's PDF ({local['bytes'] // 1024} kB) "
        "against a plain static file of the same bytes",
        "",
        "| path | cached PDF | plain file | ratio | plain file after the access check | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in (
        ("in-process (Flask test client)", local),
        ("over HTTP (gunicorn, 127.0.0.1)", cached.get("http")),
    ):
        if r:
            lines.append(
                f"| {label} | {ms(r['cached_median'])} | {ms(r['plain_median'])} | **{r['ratio']:.2f}x** | "
                f"{ms(r['plain_checked_median'])} | **{r['ratio_checked']:.2f}x** |"
            )
    lines.append(
        "\nMedians. The access check is what every plan download does first (`plan_or_404`: who is "
        "signed in, and may they read this plan); the second ratio leaves it out of the comparison."
    )
    if render:
        first = render["large"]["app_median"]
        lines.append(
            f"A cold render of the same PDF took {secs(first)}: the cached download took "
            f"1/{first / local['cached_median']:,.0f} of that."
        )
    return lines


def report_memory(memory: dict[str, Any]) -> list[str]:
    lines = [
        "### 3. Peak memory (RSS high-water mark), large plan, one subprocess per scenario",
        "",
        "| scenario | web process before | web process peak | peak above before | render process peak |",
        "|---|---|---|---|---|",
    ]
    for scenario, m in memory.items():
        child = f"{m['render_process_kb'] // 1024} MB" if scenario == "app_pdf" else "none"
        lines.append(
            f"| {MEMORY_SCENARIOS[scenario]} | {m['before_kb'] // 1024} MB | {m['peak_kb'] // 1024} MB | "
            f"{(m['peak_kb'] - m['before_kb']) // 1024} MB | {child} |"
        )
    in_process = memory["app_pdf_in_process"]["peak_kb"] - memory["app_pdf_in_process"]["before_kb"]
    alone = memory["weasyprint"]["peak_kb"] - memory["weasyprint"]["before_kb"]
    lines.append(
        f"\nDrawn in the web process, the app's render grows it {in_process / max(alone, 1):.2f}x as much "
        "as WeasyPrint alone does."
    )
    return lines


def report_stall(stall: dict[str, Any]) -> list[str]:
    lines = [
        "### 4. A cold large-plan PDF render against a stream of step-page requests (gunicorn, SQLite)",
        "",
        "| workers | PDF took | step page idle p50 / p95 | during the render p50 / p95 (max), n | ratio p50 / p95 |",
        "|---|---|---|---|---|",
    ]
    for name, s in stall.items():
        if "error" in s:
            lines.append(f"| {name} | {s['error']} | | | |")
            continue
        lines.append(
            f"| {name} | {secs(s['pdf_seconds'])} | {ms(s['idle']['p50'])} / {ms(s['idle']['p95'])} | "
            f"{ms(s['during']['p50'])} / {ms(s['during']['p95'])} ({ms(s['during']['max'])}), "
            f"n={s['during']['n']} | {s['p50_ratio']:.2f}x / {s['p95_ratio']:.2f}x |"
        )
    return lines


def report(results: dict[str, Any]) -> str:
    load = " / ".join(f"{value:.1f}" for value in results["load_before"])
    lines = [f"Measured {results['when']} on {results['machine']}; load average before: {load} (1/5/15 min)."]
    if "load_after" in results:
        lines[0] += " After: " + " / ".join(f"{value:.1f}" for value in results["load_after"]) + "."
    if "render" in results:
        lines += ["", *report_render(results["render"])]
    if "cached" in results:
        lines += ["", *report_cached(results["cached"], results.get("render"))]
    if "memory" in results:
        lines += ["", *report_memory(results["memory"])]
    if "stall" in results:
        lines += ["", *report_stall(results["stall"])]
    return "\n".join(lines)


def machine() -> str:
    cpus = os.cpu_count()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    import weasyprint

    return (
        f"{platform.system()} {platform.machine()}, {cpus} cores, {memory_kb / 1024 / 1024:.0f} GB, "
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke test, not figures")
    parser.add_argument("--repeat", type=int, default=7, help="renders of the example plan, each way")
    parser.add_argument("--large-repeat", type=int, default=5, help="renders of the large plan, each way")
    parser.add_argument("--skip-server", action="store_true", help="leave out the gunicorn measurements")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the app path (large plan)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--only", choices=("render", "cached", "memory", "stall"), action="append")
    parser.add_argument("--memory-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        scenario, database_url, plan_id, workdir, session_id = args.memory_child
        print(json.dumps(memory_child(scenario, database_url, int(plan_id), workdir, session_id)))
        return
    if args.quick:
        args.repeat, args.large_repeat = 2, 1

    from planner.documents.render import stop_render_process

    wanted = set(args.only or ("render", "cached", "memory", "stall"))
    if args.skip_server:
        wanted.discard("stall")
    workdir = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    try:
        database_url = f"sqlite:///{workdir / 'bench.sqlite'}"
        ids = prepare_database(database_url)
        session_id = ids["session"]
        COOKIE["Cookie"] = session_cookie(make_app(database_url), session_id)
        log = workdir / "gunicorn.log"
        plain_dir = workdir / "plain"
        plain_dir.mkdir()
        results: dict[str, Any] = {
            "when": time.strftime("%Y-%m-%d %H:%M %Z"),
            "machine": machine(),
            "load_before": os.getloadavg(),
        }
        downloads = 50 if args.quick else 300

        def save(results: dict[str, Any]) -> None:
            """Keep what is measured so far (a long run may be stopped)."""
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))

        if "render" in wanted:
            results["render"] = {}
            variants = (
                ("example", args.repeat, True),
                ("example, drawn in the web process", args.repeat, False),
                ("large", args.large_repeat, True),
            )
            for name, repeat, render_process in variants:
                print(f"render: {name}, {repeat} each way ...", file=sys.stderr, flush=True)
                app = make_app(database_url, plain_dir=str(plain_dir), render_process=render_process)
                plan_id = ids[name.split(",")[0]]
                results["render"][name] = measure_render(app, plan_id, repeat, session_id)
                save(results)
            if args.profile:
                print(profile_app_path(app, ids["large"]), file=sys.stderr)
            stop_render_process()

        if "cached" in wanted:
            print("cached download ...", file=sys.stderr, flush=True)
            warm = make_app(database_url, cache_dir=str(workdir / "cache"), plain_dir=str(plain_dir))
            in_process = measure_cached_in_process(warm, ids["large"], plain_dir, downloads, session_id)
            results["cached"] = {"in_process": in_process}
            save(results)

        if "memory" in wanted:
            print("peak memory ...", file=sys.stderr, flush=True)
            results["memory"] = measure_memory(database_url, ids["large"], workdir, session_id)
            save(results)

        if "stall" in wanted:
            from planner.domain import STEPS

            step_path = f"/plans/{ids['example']}/steps/{STEPS[STEP_SLUG_INDEX].slug}"
            pdf_path = f"/plans/{ids['large']}/document.pdf"
            results["stall"] = {}
            for name, extra, render_process in SERVER_SETUPS:
                print(f"stall: {name} ...", file=sys.stderr, flush=True)
                env = {"PDF_CACHE_DIR": "", "BENCH_PLAIN_DIR": str(plain_dir)}
                env["BENCH_PDF_RENDER_PROCESS"] = "1" if render_process else ""
                try:
                    with gunicorn(database_url, extra, env, log) as port:
                        results["stall"][name] = measure_stall(port, step_path, pdf_path, 30 if args.quick else 100)
                except RuntimeError as error:
                    results["stall"][name] = {"error": str(error)}
                save(results)
        if "cached" in wanted and not args.skip_server:
            print("cached download over HTTP ...", file=sys.stderr, flush=True)
            env = {"PDF_CACHE_DIR": str(workdir / "http-cache"), "BENCH_PLAIN_DIR": str(plain_dir)}
            with gunicorn(database_url, [], env, log) as port:
                results["cached"]["http"] = measure_cached_http(port, ids["large"], downloads)

        results["load_after"] = os.getloadavg()
        save(results)
        print(report(results))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
