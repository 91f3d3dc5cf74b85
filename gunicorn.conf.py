"""gunicorn settings for Planner: `gunicorn app:app` reads this file from the working directory.

Threaded workers (gunicorn's `gthread`, with one change: `ThreadWorker` below), because a workshop
keeps one Server-Sent Events stream open per screen in the room (planner/workshop/live.py): a
sync worker would be held by each one. A big room's streams go to the stream server instead
(gunicorn.streams.conf.py), where a stream costs no thread.  A PDF
of a large plan takes WeasyPrint tens of seconds of CPU; the app draws it in a separate render
process per worker (planner/documents/render.py), so the worker's threads keep answering
meanwhile.  docs/performance.md has the measurements behind these numbers.

Streams never take every thread: `post_worker_init` below caps each worker's open streams at
its threads less a reserve, and past that the oldest stream ends and its page polls instead
(planner/workshop/live.py, docs/workshop.md "Caps on open streams").

Every setting can be overridden on the command line or with GUNICORN_CMD_ARGS; the number of
workers, threads and connections also with WEB_CONCURRENCY, PLANNER_THREADS and
PLANNER_CONNECTIONS.
"""

import multiprocessing
import os

from gunicorn import util
from gunicorn.workers import gthread

bind = os.environ.get("PLANNER_BIND", "127.0.0.1:8000")
# One worker per core: the work is CPU (templates, WeasyPrint), and threads cover the waiting.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's threaded worker, with one change, so that no single client can stall it.

    gunicorn 27's gthread worker closes a connection that is not kept alive "gracefully" (RFC
    9112, section 9.6): it half-closes the socket, then waits up to 2 s for the client to close
    its side. It does that waiting on the worker's main thread, the one loop that accepts every
    connection and hands every request to a thread. So each client slow to close (a phone on
    poor Wi-Fi, a workshop stream ending while its page is busy, or a guest who simply never
    closes) stopped the worker for up to 2 s: in a room of 400, streams end every 45 s, and the
    stalls added up to 40 s waits with the cores idle (docs/performance.md, "A room of 1,000").

    Here the same graceful close is made in the request's own thread, where waiting on one
    client holds only that thread; the main loop then counts the connection closed, once, and
    has nothing left to close. Defined here, not in the `planner` package, so that gunicorn's
    master, which loads the worker class, imports none of the app: `systemctl reload` (SIGHUP)
    then starts workers with all of the new code.
    """

    def handle(self, conn):
        result = super().handle(conn)
        if result is False:  # not kept alive: close it here, off the main loop
            util.close_graceful(conn.sock)
            conn.close = _closed_already
        return result


def _closed_already(graceful=False):
    """TConn.close for a connection its request's thread has closed already."""


worker_class = ThreadWorker
# Enough for a workshop room's open streams plus the requests that come with them: each screen
# in the room (phone, laptop, projector) holds one thread while its stream is open, so allow
# (people + screens) / workers + 10. 32 suits a room of 40 on two workers; the 150-person load
# test (bench/workshop_load.py, docs/workshop.md) runs 100. With fewer, the room still works:
# past threads less a reserve (`stream_ceiling`), the oldest streams end and their pages poll.
threads = int(os.environ.get("PLANNER_THREADS", "32"))
# Open connections per worker, streams and idle keep-alive ones together; at this many the worker
# stops accepting until one closes. Each phone in a room may hold two (its stream, and the
# connection its last request left open for `keepalive` seconds).
worker_connections = int(os.environ.get("PLANNER_CONNECTIONS", "2000"))
# A worker whose main loop is silent this long is restarted. Threads and the render process keep
# the loop running through a long PDF; the margin is for a sync worker (--worker-class sync),
# which a cold PDF of a large plan on a busy machine would otherwise outlast.
timeout = 120
graceful_timeout = 30
# Recycle workers now and then, so that memory fragmented over time is given back. Not often:
# PDFs are drawn in a render process of their own, so a worker grows little, and a new worker
# costs about 2 s of CPU to load the app and draw again the page parts it keeps
# (planner/pagecache.py). Every 2000 requests, under load, that was a restart every 20 s a
# worker, which made step pages a third slower against the baseline (docs/performance.md).
max_requests = 20000
max_requests_jitter = 2000
# Behind a reverse proxy, which keeps its own connections open.
keepalive = 5
# No access log from gunicorn: the app writes one line per request itself, with its request id
# and the account (planner/ops.py), to stderr, which is gunicorn's error log. A second line
# per request from `--access-logfile` would only repeat it.
accesslog = None
errorlog = "-"


def stream_ceiling(threads: int) -> int:
    """How many workshop streams a gthread worker may hold open: all its threads but a reserve
    (a quarter, at most 10), so that streams, however many are opened, never take the threads
    that pages and actions need. Past it the oldest stream ends and its page polls instead."""
    return max(1, threads - max(1, min(10, threads // 4)))  # 0 would mean no ceiling


def post_worker_init(worker):
    """Tell the app, once loaded in a gthread worker, how many streams it may hold open
    (WORKSHOP_STREAMS_PER_PROCESS, unless the environment set it)."""
    config = getattr(worker.wsgi, "config", None)  # the Flask app's, as loaded in this worker
    threaded = isinstance(worker, gthread.ThreadWorker)
    if threaded and config is not None and not config.get("WORKSHOP_STREAMS_PER_PROCESS"):
        config["WORKSHOP_STREAMS_PER_PROCESS"] = stream_ceiling(worker.cfg.threads)
