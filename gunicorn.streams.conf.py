"""gunicorn settings for the workshop's stream server: `gunicorn -c gunicorn.streams.conf.py app:streams`.

A live workshop keeps one Server-Sent Events stream open per screen in the room. In the threaded
workers (gunicorn.conf.py) each open stream holds a thread, and a room of 1,000 phones held
hundreds per worker, waking together for each change: the room waited on threads, not on work.
Here the same app runs in a gevent worker, where an open stream is a greenlet, and serves nothing
but the streams and the health check (`app:streams`, planner/serving.py). nginx sends each
`/workshop/<code>/events` here and everything else to gunicorn.conf.py's workers
(deploy/nginx.conf); the streams read the same database, so nothing else changes. Without this
server the threaded workers carry the streams themselves, which suits rooms of a hundred or two.
docs/workshop.md, "Serving the streams", has the measurements.

Every setting can be overridden on the command line or with GUNICORN_CMD_ARGS; the address with
PLANNER_STREAMS_BIND, the number of workers with PLANNER_STREAM_WORKERS.
"""

import os

bind = os.environ.get("PLANNER_STREAMS_BIND", "127.0.0.1:8001")
# One worker carries a room of 1,000 in about a third of a core (docs/performance.md, "A room of 1,000").
workers = int(os.environ.get("PLANNER_STREAM_WORKERS", "1"))
worker_class = "gevent"
# Open connections per worker, each one a stream (a browser's EventSource keeps one per page).
worker_connections = int(os.environ.get("PLANNER_STREAM_CONNECTIONS", "3000"))
# Streams end by themselves after 45 s (WORKSHOP_STREAM_SECONDS) and pings keep the main loop
# busy, so a silent worker this long is stuck.
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"


def post_worker_init(worker):
    """Before the first stream: let the worker hold nearly as many streams as it has connections
    (past that, the oldest stream ends and its page polls: planner/workshop/live.py, "caps"), and
    keep no PDF renderer. This server never draws a PDF (planner/serving.py refuses every other
    route), and the background renderer's process pool is not meant to run under gevent."""
    config = worker.wsgi.config  # the Flask app's (planner.serving.StreamsOnly passes it on)
    if not config.get("WORKSHOP_STREAMS_PER_PROCESS"):
        config["WORKSHOP_STREAMS_PER_PROCESS"] = max(1, worker.cfg.worker_connections - 100)
    config["PDF_PRERENDER"] = False
    config["PDF_PRERENDER_POLL_SECONDS"] = 0
