"""Is the PDF ready when the user asks for it?  Two ratios, each against a baseline of the same run.

    .venv/bin/python bench/pdf_ready.py              # about 8 minutes on 2 cores
    .venv/bin/python bench/pdf_ready.py --quick      # a smoke test: short waits, one round each
    .venv/bin/python bench/pdf_ready.py --json /tmp/pdf-ready.json

1. **A minute after the last edit.**  gunicorn on 127.0.0.1 with the repository's
   `gunicorn.conf.py` (2 gthread workers, PDFs drawn in each worker's render process), serving
   `bench.wsgi:app` on a temporary SQLite database, with the PDF cache on and background drawing
   at its defaults (`PDF_SETTLE_SECONDS` 20, each worker looking every 2 s).  Each round edits a
   plan (a write to the shared database from this process, as another app process would make
   it), watches the cache directory for that revision's PDF (to say when it was ready), waits
   until `--after` seconds (60) after the edit, and then downloads the PDF: the first download,
   then `--downloads` more alternating with the same bytes sent as a plain static file by the
   same server (`/bench/plain.pdf`, `send_from_directory`); then, after a quiet minute of its own,
   the static file once more, first, as the PDF was.  Goal: the first download at most 1.5x
   that first static file (and the medians at most 1.5x too).
   Nothing else asks for the PDF between the edit and the download: it is ready only if the
   background drew it.  Every download carries the cookie the server's log-in page gave the
   bench (`log_in`), as a browser's do.
2. **Cold render**, reusing `bench/pdf_bench.py`: the app's PDF route with the cache off against
   WeasyPrint alone on the same HTML, alternating run by run.  Goal: at most 1.15x.

For the example plan and the large plan (`tests.plan_factory.large_plan`, about 30 s to draw).
Everything runs on loopback, in a temporary directory that is deleted afterwards, and stops by
itself (each request has a timeout; the server is stopped however the run ends).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pdf_bench  # noqa: E402  (after the path: run as a script from anywhere)
from bench.pdf_bench import median, ms, secs  # noqa: E402

PLANS = ("example", "large")
LOG_IN = ("bench@example.org", "bench bench")  # the person `pdf_bench.prepare_database` makes


def snapshot(workdir: Path) -> Path:
    """A copy of the code the server runs, taken once.

    A PDF's cache key includes a hash of the code that draws it, computed once per process.
    Served from a working tree that people are editing, two workers that started a moment
    apart could hash different code and keep replacing each other's PDF: not what a deploy does.
    """
    copy = workdir / "app"
    copy.mkdir()
    for name in ("planner", "templates", "static", "migrations", "bench"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("app.py", "config.py", "gunicorn.conf.py"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def drawn_since(cache_dir: Path, plan_id: int, since: float) -> bool:
    """Whether a PDF of the plan was stored after `since` (wall-clock time)."""
    for pdf in cache_dir.glob(f"{plan_id}-*.pdf"):
        with contextlib.suppress(FileNotFoundError):
            if pdf.stat().st_mtime >= since:
                return True
    return False


def edit(app: Any, plan_id: int, n: int) -> None:
    """One edit of the plan's mission, committed: it moves the revision, as any save does."""
    from planner.plans import store

    with app.app_context():
        store.update_plan_fields(store.get_plan(plan_id), {"mission": f"Round {n} of the readiness bench"})


def log_in(port: int) -> str:
    """The session cookie a browser holds once it has logged in on the server's log-in page, as
    a `Cookie` header's value: what a person's downloads carry.  (A cookie signed outside the
    server lacks Flask-Login's mark of the browser it was made for, so the server would answer
    every download with a new cookie, which this client never takes: a cost no browser pays.)"""

    def send(method: str, path: str, body: str = "", cookie: str = "") -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": cookie} if cookie else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("Set-Cookie") or ""
        finally:
            conn.close()

    def session_of(set_cookie: str) -> str:
        jar: SimpleCookie = SimpleCookie()
        jar.load(set_cookie)
        return f"session={jar['session'].value}"

    status, page, set_cookie = send("GET", "/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert status == 200 and token and set_cookie, (status, set_cookie)
    form = urlencode({"csrf_token": token.group(1).decode(), "email": LOG_IN[0], "password": LOG_IN[1]})
    status, _, set_cookie = send("POST", "/login", form, session_of(set_cookie))
    assert status == 302 and set_cookie, f"the bench's log-in was refused ({status})"
    return session_of(set_cookie)


def get_pdf(port: int, path: str, *, wait: bool = False) -> tuple[float, bytes]:
    """The time to get the file; with `wait`, asking again while the server says "being drawn"
    (202, after `PDF_WAIT_SECONDS`), as the page that says so does."""
    start = time.perf_counter()
    status, body = pdf_bench.http_get(port, path, timeout=300)
    while wait and status == 202 and time.perf_counter() - start < 600:
        time.sleep(0.5)
        status, body = pdf_bench.http_get(port, path, timeout=300)
    elapsed = time.perf_counter() - start
    assert status == 200 and body[:5] == b"%PDF-", (path, status)
    return elapsed, body


def one_round(
    app: Any, port: int, plan_id: int, cache_dir: Path, plain_dir: Path, n: int, after: float, downloads: int
) -> dict[str, Any]:
    wall = time.time()
    edit(app, plan_id, n)
    edited = time.monotonic()
    ready_after = None
    while (left := edited + after - time.monotonic()) > 0:
        if ready_after is None and drawn_since(cache_dir, plan_id, wall):
            ready_after = time.monotonic() - edited
        time.sleep(min(0.1, left))
    first, body = get_pdf(port, f"/plans/{plan_id}/document.pdf", wait=True)
    (plain_dir / "plain.pdf").write_bytes(body)
    cached_times: list[float] = []
    plain_times: list[float] = []
    checked_times: list[float] = []
    kinds = (
        (cached_times, f"/plans/{plan_id}/document.pdf"),
        (plain_times, "/bench/plain.pdf"),
        # The same file after the check every plan download makes first: who asks, may they read it.
        (checked_times, f"/bench/plans/{plan_id}/plain.pdf"),
    )
    for i in range(downloads):
        for times, path in kinds if i % 2 == 0 else reversed(kinds):
            times.append(get_pdf(port, path)[0])
    plain = median(plain_times)
    # The static file after a quiet minute of its own, as the PDF's first download came after one:
    # whatever a worker's first request after a minute of nothing costs, both then pay it.
    quiet_until = time.monotonic() + after
    while (left := quiet_until - time.monotonic()) > 0:
        time.sleep(min(0.5, left))
    plain_first = get_pdf(port, "/bench/plain.pdf")[0]
    return {
        "bytes": len(body),
        "ready_after": ready_after,
        "first": first,
        "cached_median": median(cached_times),
        "plain_median": plain,
        "checked_median": median(checked_times),
        "first_ratio": first / plain,
        "plain_first": plain_first,
        "first_to_first": first / plain_first,
        "ratio": median(cached_times) / plain,
        "ratio_checked": median(cached_times) / median(checked_times),
    }


def measure_ready(
    database_url: str, ids: dict[str, Any], workdir: Path, rounds: int, after: float, settle: float, downloads: int
) -> dict[str, Any]:
    cache_dir, plain_dir = workdir / "ready-cache", workdir / "plain"
    plain_dir.mkdir(exist_ok=True)
    env = {
        "PDF_CACHE_DIR": str(cache_dir),
        "PDF_PRERENDER": "1",
        "PDF_SETTLE_SECONDS": str(settle),
        "BENCH_PLAIN_DIR": str(plain_dir),
    }
    app = pdf_bench.make_app(database_url)
    results: dict[str, Any] = {"settle": settle, "after": after, "plans": {}}
    started = time.time()
    with pdf_bench.gunicorn(database_url, [], env, workdir / "gunicorn.log", root=snapshot(workdir)) as port:
        # The plans were just made, so the background draws them first (a request started the
        # workers): wait for that, so that each round begins with nothing else being drawn.
        deadline = time.monotonic() + 600
        while not all(drawn_since(cache_dir, ids[name], started) for name in PLANS):
            if time.monotonic() > deadline:
                raise RuntimeError("the background did not draw the new plans within 10 minutes")
            time.sleep(0.5)
        results["first_drawn_after"] = time.time() - started
        pdf_bench.COOKIE["Cookie"] = log_in(port)  # every download from here on, as a browser sends it
        n = 0
        for name in PLANS:
            results["plans"][name] = []
            for _ in range(rounds):
                n += 1
                print(
                    f"ready: {name}, round {n}: edit, then download {after:.0f} s later ...",
                    file=sys.stderr,
                    flush=True,
                )
                results["plans"][name].append(
                    one_round(app, port, ids[name], cache_dir, plain_dir, n, after, downloads)
                )
    return results


def report_ready(ready: dict[str, Any]) -> list[str]:
    lines = [
        f"### 1. The download {ready['after']:.0f} s after the last edit, against a static file of the same bytes",
        "",
        f"gunicorn (gunicorn.conf.py), SQLite, `PDF_SETTLE_SECONDS={ready['settle']:g}`.",
        "",
        "| plan | round | PDF size | drawn, after the edit | first download | static file, first after a quiet minute "
        "| ratio (goal ≤ 1.5x) | to the static median | then, median | static file, median | ratio "
        "| static file after the access check | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rounds in ready["plans"].items():
        for i, r in enumerate(rounds, 1):
            drawn = secs(r["ready_after"]) if r["ready_after"] is not None else "not yet"
            lines.append(
                f"| {name} | {i} | {r['bytes'] // 1024} kB | {drawn} | {ms(r['first'])} | {ms(r['plain_first'])} "
                f"| **{r['first_to_first']:.2f}x** | {r['first_ratio']:.2f}x "
                f"| {ms(r['cached_median'])} | {ms(r['plain_median'])} | **{r['ratio']:.2f}x** "
                f"| {ms(r['checked_median'])} | {r['ratio_checked']:.2f}x |"
            )
    if "first_drawn_after" in ready:
        lines += ["", f"The two new plans were drawn {secs(ready['first_drawn_after'])} after the server started."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short waits and few repeats: a smoke test")
    parser.add_argument("--after", type=float, default=60.0, help="seconds from the edit to the download")
    parser.add_argument("--settle", type=float, default=20.0, help="PDF_SETTLE_SECONDS for the server")
    parser.add_argument("--rounds", type=int, default=2, help="edits of each plan, one download each")
    parser.add_argument("--downloads", type=int, default=100, help="downloads of each kind after the first")
    parser.add_argument("--repeat", type=int, default=3, help="cold renders of the example plan, each way")
    parser.add_argument("--large-repeat", type=int, default=1, help="cold renders of the large plan, each way")
    parser.add_argument("--only", choices=("ready", "render"), action="append")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    if args.quick:
        args.after, args.settle, args.rounds, args.downloads, args.repeat = 45.0, 2.0, 1, 20, 1
    wanted = set(args.only or ("ready", "render"))

    from planner.documents.render import stop_render_process

    workdir = Path(tempfile.mkdtemp(prefix="planner-ready-bench-"))
    try:
        database_url = f"sqlite:///{workdir / 'bench.sqlite'}"
        ids = pdf_bench.prepare_database(database_url)
        pdf_bench.COOKIE["Cookie"] = pdf_bench.session_cookie(pdf_bench.make_app(database_url), ids["session"])
        results: dict[str, Any] = {
            "when": time.strftime("%Y-%m-%d %H:%M %Z"),
            "machine": pdf_bench.machine(),
            "load_before": os.getloadavg(),
        }
        if "ready" in wanted:
            results["ready"] = measure_ready(
                database_url, ids, workdir, args.rounds, args.after, args.settle, args.downloads
            )
        if "render" in wanted:
            results["render"] = {}
            for name, repeat in (("example", args.repeat), ("large", args.large_repeat)):
                print(f"render: {name}, {repeat} each way ...", file=sys.stderr, flush=True)
                app = pdf_bench.make_app(database_url, plain_dir=str(workdir / "plain"), render_process=True)
                results["render"][name] = pdf_bench.measure_render(app, ids[name], repeat, ids["session"])
            stop_render_process()
        results["load_after"] = os.getloadavg()
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        load = " / ".join(f"{v:.1f}" for v in results["load_before"])
        after = " / ".join(f"{v:.1f}" for v in results["load_after"])
        lines = [f"Measured {results['when']} on {results['machine']}; load average {load} before, {after} after."]
        if "ready" in results:
            lines += ["", *report_ready(results["ready"])]
        if "render" in results:
            render = pdf_bench.report_render(results["render"])
            render[0] = render[0].replace("### 1.", "### 2.")
            lines += ["", *render]
        print("\n".join(lines))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
