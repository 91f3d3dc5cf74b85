"""What the largest plan the limits allow costs, in every format, against the example plan.

    .venv/bin/python bench/big_plan.py                  # the three plans, every format
    .venv/bin/python bench/big_plan.py --json out.json  # the figures as JSON too
    .venv/bin/python bench/big_plan.py --unlimited      # also the fullest plan's PDF with no limits

Plans: the example plan, the large plan of the layout checks (`tests.plan_factory.large_plan`)
and the fullest plan the limits allow (`tests.plan_factory.fullest_document`: every kind at its
most items, every text at its longest).  Formats: the PDF (drawn in the render process, with the
limits of `config.Config`: `PDF_RENDER_TIMEOUT_SECONDS`, `PDF_RENDER_MEMORY_MB`), Word, Markdown,
the JSON export and the printable page.

Each (plan, format) runs in a process of its own, so that peaks don't mix: the time to make the
file once, from the plan document `store.load_doc` gives, and the peak resident memory (VmHWM)
of whichever process made it; for the PDF, the render process's, and its CPU time.  Ratios are
against the example plan, measured in the same run, on CPU time: on a busy machine the clock
says more about the neighbours than about the work.  A temporary SQLite database; nothing here
runs in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pdf_bench import current_rss_kb, peak_rss_kb, reset_peak_rss  # noqa: E402

PLANS = ("example", "large", "fullest")
FORMATS = ("pdf", "docx", "md", "json", "html")
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "md": "Markdown", "json": "JSON export", "html": "printable page"}


def make_app(database_url: str, **config: Any) -> Any:
    from config import Config
    from planner import create_app

    return create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=database_url,
        PDF_CACHE_DIR="",
        PDF_PRERENDER=False,
        PDF_PRERENDER_POLL_SECONDS=0.0,
        SECRET_KEY="bench",
        **config,
    )


def prepare(database_url: str) -> dict[str, int]:
    from planner.extensions import db
    from planner.interchange.example import example_document
    from planner.plans import store
    from tests.plan_factory import fullest_document, large_plan

    app = make_app(database_url)
    with app.app_context():
        db.create_all()
        ids = {
            "example": store.create_from_doc(example_document()["plan"]).id,
            "large": store.create_from_doc(large_plan()).id,
            "fullest": store.create_from_doc(fullest_document()["plan"]).id,
        }
        db.session.remove()
        db.engine.dispose()
    return ids


def child(database_url: str, plan_id: int, fmt: str, unlimited: bool) -> dict[str, Any]:
    """One format of one plan, in this process: time, bytes and peak memory."""
    from planner.coach import coach_report
    from planner.documents.markdown import render_markdown
    from planner.documents.render import PdfTooLong, font_config, render_html, render_pdf, stop_render_process
    from planner.documents.word import render_docx
    from planner.interchange.transfer import dumps, export_document
    from planner.plans import store

    limits = {"PDF_RENDER_TIMEOUT_SECONDS": 3600, "PDF_RENDER_MEMORY_MB": 0} if unlimited else {}
    # Never replaced after its PDF, even grown: a process retired in the background might not be
    # reaped yet when its usage is read below, and its peak and CPU would go uncounted.
    limits["PDF_RENDER_KEEP_MB"] = 1 << 20
    app = make_app(database_url, PDF_RENDER_PROCESS=True, **limits)
    today = date.today()
    with app.test_request_context():
        plan = store.get_plan(plan_id)
        doc = store.load_doc(plan)
        if fmt == "pdf":
            font_config()
        makers = {
            "pdf": lambda: render_pdf(doc, today=today, separate_process=True),
            "docx": lambda: render_docx(doc, coach=coach_report(doc), today=today),
            "md": lambda: render_markdown(doc, coach=coach_report(doc), today=today).encode(),
            "json": lambda: dumps(export_document(plan)).encode(),
            "html": lambda: render_html(doc, plan_id=plan.id).encode(),
        }
        before = current_rss_kb()
        reset_peak_rss()
        started, cpu_started = time.monotonic(), time.process_time()
        outcome = "made"
        try:
            data = makers[fmt]()
        except PdfTooLong as error:
            data, outcome = b"", f"stopped at the {error.limit} limit"
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
        peak = peak_rss_kb()
    stop_render_process()  # reaped: its peak and CPU count among this process's children
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": len(data),
        "outcome": outcome,
        "before_kb": before,
        "peak_kb": peak,
    }
    if fmt == "pdf":
        result["render_peak_kb"] = children.ru_maxrss
        # The render process's CPU, its start included (imports and the font scan: about 1.5 s).
        result["cpu_seconds"] = children.ru_utime + children.ru_stime
    return result


def run_child(database_url: str, plan_id: int, fmt: str, unlimited: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", database_url, str(plan_id), fmt]
    if unlimited:
        args.append("--unlimited")
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{fmt} of plan {plan_id} failed:\n{done.stderr[-4000:]}")
    for line in done.stderr.splitlines():
        if "render" in line or "PDF" in line:  # what the render limits logged
            print(f"  {line}", file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def sizes(database_url: str, ids: dict[str, int]) -> dict[str, str]:
    from planner.documents.render import render_html
    from planner.plans import store

    app = make_app(database_url)
    out = {}
    with app.test_request_context():
        for name, plan_id in ids.items():
            doc = store.load_doc(store.get_plan(plan_id))
            items = sum(len(v) for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict))
            chars = len(json.dumps(doc, ensure_ascii=False))
            html = len(render_html(doc, for_pdf=True))
            out[name] = f"{items} items, {chars / 1e6:.2f} M characters of JSON, {html / 1e6:.1f} MB of HTML to draw"
    return out


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def report(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}. Limits: {results['limits']}.", ""]
    lines += [f"- **{name}**: {text}" for name, text in results["sizes"].items()]
    lines += [
        "",
        "| format | plan | CPU time | x example | (wall) | peak memory | x example | size | outcome |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for fmt in [fmt for fmt in FORMATS if fmt in results["runs"]["example"]]:
        base = results["runs"]["example"][fmt]
        for name in PLANS:
            run = results["runs"][name][fmt]
            peak_key = "render_peak_kb" if fmt == "pdf" else "peak_kb"
            cpu, base_cpu = run["cpu_seconds"], base["cpu_seconds"]
            lines.append(
                f"| {FORMAT_NAMES[fmt]} | {name} | {cpu:.2f} s | {cpu / base_cpu:.1f}x "
                f"| {run['seconds']:.1f} s "
                f"| {mb(run[peak_key])} | {run[peak_key] / base[peak_key]:.1f}x "
                f"| {run['bytes'] / 1e6:.2f} MB | {run['outcome']} |"
            )
    if "unlimited" in results:
        run = results["unlimited"]
        lines += [
            "",
            f"The fullest plan's PDF with no limits: {run['cpu_seconds']:.0f} s of CPU ({run['seconds']:.0f} s wall), "
            f"render process peak {mb(run['render_peak_kb'])}, {run['bytes'] / 1e6:.1f} MB, {run['outcome']}.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=3, metavar=("DATABASE_URL", "PLAN_ID", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--unlimited", action="store_true", help="also draw the fullest plan's PDF with no limits")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--formats", default=",".join(FORMATS), help="which formats (default: all)")
    args = parser.parse_args()
    if args.child:
        database_url, plan_id, fmt = args.child
        print(json.dumps(child(database_url, int(plan_id), fmt, args.unlimited)))
        return

    from config import Config

    with tempfile.TemporaryDirectory(prefix="big-plan-") as workdir:
        database_url = f"sqlite:///{Path(workdir, 'bench.sqlite')}"
        ids = prepare(database_url)
        results: dict[str, Any] = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "limits": (
                f"PDF_RENDER_TIMEOUT_SECONDS={Config.PDF_RENDER_TIMEOUT_SECONDS:g}, "
                f"PDF_RENDER_MEMORY_MB={Config.PDF_RENDER_MEMORY_MB}, PDF_RENDER_KEEP_MB={Config.PDF_RENDER_KEEP_MB}"
            ),
            "sizes": sizes(database_url, ids),
            "runs": {name: {} for name in PLANS},
        }
        formats = [fmt for fmt in FORMATS if fmt in args.formats.split(",")]
        for name in PLANS:
            for fmt in formats:
                results["runs"][name][fmt] = run = run_child(database_url, ids[name], fmt)
                print(f"{name} {fmt}: {run}", file=sys.stderr, flush=True)
        if args.unlimited:
            results["unlimited"] = run_child(database_url, ids["fullest"], "pdf", unlimited=True)
    text = report(results)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
