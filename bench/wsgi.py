"""The app as the benchmark's gunicorn serves it: `app.py`'s app plus one route to compare against.

`/bench/plain.pdf` sends a file from `BENCH_PLAIN_DIR` the way Flask sends any static file
(`send_from_directory`): the floor a cached PDF download is measured against.  An empty
`BENCH_PDF_RENDER_PROCESS` makes the app draw PDFs in the worker itself, for comparison.
Only `bench/pdf_bench.py` uses this module (`gunicorn bench.wsgi:app`); the real entry point
is `app.py`.
"""

import os

from bench.pdf_bench import with_plain_file_route
from planner import create_app

app = with_plain_file_route(create_app(PDF_RENDER_PROCESS=bool(os.environ.get("BENCH_PDF_RENDER_PROCESS", "1"))))
