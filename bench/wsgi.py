"""The app as the benchmarks' gunicorn serves it: `app.py`'s app plus routes to compare against.

`/bench/plain.pdf` sends a file from `BENCH_PLAIN_DIR` the way Flask sends any static file
(`send_from_directory`): the floor a cached PDF download is measured against.  An empty
`BENCH_PDF_RENDER_PROCESS` makes the app draw PDFs in the worker itself, for comparison.

`/bench/baseline/<plan_id>` is the floor for a page: Flask and SQLAlchemy doing one one-row
query and answering with its result, on the same server, app and database as the real pages
(`bench/team_load.py` compares the wizard's step pages with it).

`bench/pdf_bench.py` and `bench/team_load.py` serve this module (`gunicorn bench.wsgi:app`);
the real entry point is `app.py`.
"""

import os

from flask import Flask
from sqlalchemy import select

from bench.pdf_bench import with_plain_file_route
from planner import create_app


def baseline(plan_id: int) -> tuple[str, int, dict[str, str]]:
    """One query by primary key, and its result as plain text: what any page costs at least."""
    from planner.extensions import db
    from planner.models import Plan

    title = db.session.scalar(select(Plan.title).where(Plan.id == plan_id))
    return title or "", 200 if title else 404, {"Content-Type": "text/plain; charset=utf-8"}


def with_baseline_route(app: Flask) -> Flask:
    app.add_url_rule("/bench/baseline/<int:plan_id>", "bench_baseline", baseline)
    return app


# An empty BENCH_PAGE_CACHE works out every step page anew (planner/plans/cached.py off), to compare.
app = with_baseline_route(
    with_plain_file_route(
        create_app(
            PDF_RENDER_PROCESS=bool(os.environ.get("BENCH_PDF_RENDER_PROCESS", "1")),
            PAGE_CACHE=bool(os.environ.get("BENCH_PAGE_CACHE", "1")),
        )
    )
)
