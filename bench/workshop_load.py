"""Load on a live workshop: 150 participants (up to 1,000) join one session, add ideas and
vote, while a projector follows the room.

    .venv/bin/python bench/workshop_load.py                 # PostgreSQL, 2 app workers + the stream server, ~2 minutes
    .venv/bin/python bench/workshop_load.py --people 30     # a smaller room
    .venv/bin/python bench/workshop_load.py --people 1000   # the room of 1,000
    .venv/bin/python bench/workshop_load.py --stream-workers 0 --threads 250   # streams in the app's threads
    .venv/bin/python bench/workshop_load.py --sqlite        # the embedded default: one process, SQLite

What it does, all on 127.0.0.1, bounded in count and time, and stopping by itself:

1. Starts a throwaway PostgreSQL cluster (initdb into a temporary directory, as the `postgres`
   user when run as root, on a free port), migrates it, and makes a facilitator, a plan and a
   workshop session through the app's own services.
2. Starts gunicorn with the repository's gunicorn.conf.py (its threaded worker), 2 workers, and
   the stream server (gunicorn.streams.conf.py: one gevent worker, `app:streams`), to which the
   clients send their event streams, as deploy/nginx.conf does (`--stream-workers 0`: none, the
   app's threads carry the streams).
3. Opens the projector's event stream (Server-Sent Events, reconnecting as a browser does) and
   one stream per participant, so the server carries a real room's open connections.
4. Every participant joins with a name (each from its own loopback address, as phones behind
   different routers would; a room behind one router is within the join limit anyway), then adds
   `--ideas` ideas with a few seconds' thought between them. Each idea's text is unique, and the
   time from sending it to its appearance in a state the projector receives is recorded.
5. The facilitator opens voting; everyone places their dots; the facilitator closes voting and
   the projector must see the results.
6. Prints p50/p95/max of idea-to-projector, errors, requests, and the server's CPU and memory
   (gunicorn master and workers, and PostgreSQL, read from /proc), as Markdown.

The clients all run in one thread on asyncio (two sockets per person, no thread each), so that
1,000 of them cost the shared cores little beside the server they measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "workshop-bench-secret"
FACILITATOR_PASSWORD = "workshop bench password"
HOST = "127.0.0.1"
DEADLINE_SECONDS = 600  # the whole run stops by then, whatever happens
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A card in a state's JSON, as the phone's page reads it to vote (planner/workshop/rules.py).
CARD_NUMBER = re.compile(rb'\{"n":(\d+),"step"')
ARRIVAL_GAP = 0.1  # seconds between two people joining (--arrival): 150 people in 15 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# ---------------------------------------------------------------- PostgreSQL and gunicorn


def as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = Path(tempfile.mkdtemp(prefix="planner-bench-pg-"))
    if os.getuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd="/",
    )
    options = f"-c listen_addresses={HOST} -c port={port} -c unix_socket_directories={data} -c max_connections=100"
    subprocess.run(
        as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(data / "log"), "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd="/",
    )
    try:
        subprocess.run(
            as_owner([str(bindir / "createdb"), "-h", HOST, "-p", str(port), "-U", "postgres", "planner_bench"]),
            check=True,
            cwd="/",
        )
        yield f"postgresql+psycopg://postgres@{HOST}:{port}/planner_bench"
    finally:
        subprocess.run(
            as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            cwd="/",
        )
        shutil.rmtree(data, ignore_errors=True)


def prepare(database_url: str, people: int) -> dict[str, Any]:
    """Migrate, and make a facilitator, a plan and a session; return what the clients need."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["SECRET_KEY"] = SECRET
    # No PDFs drawn in the background: their CPU would land in the middle of the measurement.
    os.environ["PDF_PRERENDER"] = "0"
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from config import Config
    from planner import create_app
    from planner.accounts.models import Membership, User
    from planner.extensions import db
    from planner.interchange.example import example_document
    from planner.plans import store
    from planner.workshop import access
    from planner.workshop import operations as ops

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET, SERVER_NAME=None)
    with app.app_context():
        upgrade()
        user = User(
            email="bench@example.org",
            name="Bench Facilitator",
            password_hash=generate_password_hash(FACILITATOR_PASSWORD),
        )
        db.session.add(user)
        plan = store.create_from_doc(example_document()["plan"])
        db.session.add(Membership(plan_id=plan.id, user_id=user.id, role="facilitator"))
        db.session.commit()
        ws = ops.start_session(plan, user, "audiences")
        with app.test_request_context():
            key = access.projector_key(ws)
        info = {"code": ws.code, "key": key, "email": user.email, "password": FACILITATOR_PASSWORD}
        db.session.remove()
        db.engine.dispose()
    return info


@contextlib.contextmanager
def serve(command: list[str], port: int, database_url: str, log_name: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run an app server on 127.0.0.1:`port` until the block ends; its output goes to a log file."""
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=SECRET)
    with open(Path(tempfile.gettempdir()) / log_name, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
                    break
                time.sleep(0.1)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextlib.contextmanager
def gunicorn(
    database_url: str, workers: int, threads: int, worker_class: str | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The repository's gunicorn.conf.py (its threaded worker), with
    `workers` workers of `threads` threads, or another `worker_class` (gthread: gunicorn's own)."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "--threads", str(threads)]
    command += ["--worker-class", worker_class] if worker_class else []
    command += ["app:app"]
    with serve(command, port, database_url, "planner-workshop-bench-gunicorn.log") as server:
        yield port, server


@contextlib.contextmanager
def stream_server(database_url: str, workers: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The workshop's stream server (gunicorn.streams.conf.py, docs/workshop.md): the same app, in
    gevent workers, serving only the event streams, as deploy/nginx.conf routes them."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "gunicorn.streams.conf.py")]
    command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "app:streams"]
    with serve(command, port, database_url, "planner-workshop-bench-streams.log") as server:
        yield port, server


@contextlib.contextmanager
def flask_run(database_url: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The embedded default: `flask run` (threaded), one process."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/flask"), "--app", "app", "run", "--host", HOST, "--port", str(port)]
    with serve([*command, "--with-threads"], port, database_url, "planner-workshop-bench-flask.log") as server:
        yield port, server


# ---------------------------------------------------------------- measuring the server


def process_tree(root_pid: int) -> list[int]:
    """root_pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    return total


def rss_mb(pids: list[int]) -> float:
    """Resident set size summed over the processes: shared pages counted in each."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def memory_mb(pids: list[int]) -> float:
    """Proportional set size (PSS) summed over the processes: shared pages (PostgreSQL's shared
    buffers, the code gunicorn's workers share with their master) are counted once, not per process."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total / 1024


class Sampler(threading.Thread):
    """The peak memory (PSS) of process trees, sampled every half second."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peak = dict.fromkeys(roots, 0.0)
        self.peak_rss = dict.fromkeys(roots, 0.0)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for name, pid in self.roots.items():
                tree = process_tree(pid)
                self.peak[name] = max(self.peak[name], memory_mb(tree))
                self.peak_rss[name] = max(self.peak_rss[name], rss_mb(tree))


def postmaster_pid(database_url: str) -> int | None:
    port = urllib.parse.urlsplit(database_url.replace("+psycopg", "")).port
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
                if cmd and cmd[0].endswith(b"postgres") and f"port={port}".encode() in b" ".join(cmd):
                    return int(entry.name)
    return None


# ---------------------------------------------------------------- the clients


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.requests = 0
        self.posts: list[float] = []  # how long adding an idea took, request to response

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def count(self) -> None:
        with self.lock:
            self.requests += 1


class Browser:
    """One person's cookies and connection, like a phone's browser."""

    def __init__(self, port: int, stats: Stats, source: str = HOST) -> None:
        self.port = port
        self.stats = stats
        self.source = source
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30, source_address=(self.source, 0))
        return self.conn

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, form: dict[str, str] | None = None, json_reply: bool = False) -> Any:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        extra = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.csrf} if form else {}
        if json_reply:
            extra["Accept"] = "application/json"
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=self.headers(extra))
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.conn = None
                if attempt:
                    raise
        self.stats.count()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = data.decode("utf-8", "replace")
        if match := CSRF_META.search(text):
            self.csrf = match.group(1)
        return response.status, text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


# The room's clients run in one thread, on asyncio: 1,000 phones, each with a connection for its
# requests and one for its event stream, are 2,000 sockets and 1,000 coroutines, not 2,000
# threads, so that the client's own CPU stays small beside the server's on the same cores.


class Person:
    """One phone's browser, in asyncio: its cookies, its CSRF token and one keep-alive
    HTTP/1.1 connection for its requests, from its own loopback address."""

    def __init__(self, port: int, stats: Stats, source: str = HOST) -> None:
        self.port, self.stats, self.source = port, stats, source
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def connect(self, port: int | None = None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A new connection from this phone's address, to the app's port or another (`port`)."""
        return await asyncio.open_connection(HOST, port or self.port, local_addr=(self.source, 0), limit=1 << 20)

    def head(self, method: str, path: str, extra: dict[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in extra.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def remember(self, headers: list[tuple[str, str]]) -> None:
        for header, value in headers:
            if header == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]

    async def request(self, method: str, path: str, form: dict[str, str] | None = None, json_reply: bool = False):
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        extra = {"Content-Length": str(len(body))} if form is not None else {}
        if form:
            extra.update({"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.csrf})
        if json_reply:
            extra["Accept"] = "application/json"
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = await self.connect()
                reader, writer = self.conn
                writer.write(self.head(method, path, extra) + body)
                async with asyncio.timeout(30):
                    status, headers = await read_head(reader)
                    data = await read_body(reader, headers)
                if dict(headers).get("connection") == "close":
                    await self.close()
                break
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                await self.close()
                if attempt:
                    raise
        self.stats.requests += 1
        self.remember(headers)
        text = data.decode("utf-8", "replace")
        if match := CSRF_META.search(text):
            self.csrf = match.group(1)
        return status, text

    async def close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
            with contextlib.suppress(Exception):
                await self.conn[1].wait_closed()
            self.conn = None


async def read_head(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]]]:
    line = await reader.readline()
    if not line:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(line.split()[1])
    headers = []
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return status, headers


async def read_body(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bytes:
    found = dict(headers)
    if "content-length" in found:
        return await reader.readexactly(int(found["content-length"]))
    if found.get("transfer-encoding") == "chunked":
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size + 2))
        await reader.readline()
        return b"".join(p[:-2] for p in parts)
    return await reader.read()


class Stream:
    """An EventSource: reads a workshop's event stream and reconnects with Last-Event-ID, as a
    browser does (after the `retry` the server asks for: 1 s)."""

    def __init__(self, person: Person, path: str, on_state: Any = None, port: int | None = None) -> None:
        self.person, self.path, self.on_state = person, path, on_state
        self.port = port or person.port  # the stream server's, when streams have a server of their own
        self.numbers: set[bytes] = set()  # the cards' numbers this phone has seen, to vote on
        self.last_id = "0"
        self.states = 0
        self.received = 0  # bytes of the stream's body, chunk framing included
        self.ended_by_server = 0

    async def run(self) -> None:
        stats = self.person.stats
        while True:
            writer = None
            try:
                reader, writer = await self.person.connect(self.port)
                extra = {"Last-Event-ID": self.last_id, "Accept": "text/event-stream"}
                writer.write(self.person.head("GET", self.path, extra))
                async with asyncio.timeout(20) as deadline:
                    status, _ = await read_head(reader)
                    if status != 200:
                        stats.error(f"stream {status}")
                        await asyncio.sleep(1)
                        continue
                    loop = asyncio.get_running_loop()
                    if self.on_state is None:
                        await self.drop(reader, deadline, loop)
                    else:
                        await self.follow(reader, deadline, loop)
                self.ended_by_server += 1
                # The response is over: let the connection go, as a browser does, then wait the
                # `retry: 1000` the stream asks for before the next one.
                writer.close()
                writer = None
                await asyncio.sleep(1)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as error:
                stats.error(f"stream: {error!r}")
                await asyncio.sleep(0.5)
            finally:
                if writer is not None:
                    writer.close()

    async def drop(self, reader: asyncio.StreamReader, deadline: Any, loop: Any) -> None:
        """A participant's phone: read and drop, as cheaply as a client can, keeping only the
        last event's id for the reconnection (each event is a chunk of its own: `\\r\\nid: N`)."""
        tail = b""
        while chunk := await reader.read(1 << 18):
            deadline.reschedule(loop.time() + 20)
            self.received += len(chunk)
            self.states += chunk.count(b"\nevent: state\n")
            block = tail + chunk
            self.numbers.update(CARD_NUMBER.findall(block))
            where = block.rfind(b"\nid: ")
            end = block.find(b"\n", where + 5) if where >= 0 else -1
            if end >= 0:
                self.last_id = block[where + 5 : end].decode()
            if block.endswith(b"\n\n\r\n0\r\n\r\n"):
                # The response's last chunk: the stream is over, as a browser sees it, whether or
                # not the server has closed the connection yet (gunicorn 27 may keep it a while).
                return
            tail = block[-40:]

    async def follow(self, reader: asyncio.StreamReader, deadline: Any, loop: Any) -> None:
        """The projector: every event parsed, every state handed on."""
        event: dict[str, str] = {}
        pending = b""
        while size := int((await reader.readline()).split(b";")[0], 16):
            deadline.reschedule(loop.time() + 20)
            pending += (await reader.readexactly(size + 2))[:-2]
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode()
                if line:
                    name, _, value = line.partition(": ")
                    event[name] = value
                    continue
                if event.get("event") == "state":
                    self.last_id = event.get("id", self.last_id)
                    self.states += 1
                    self.on_state(event["data"])
                event = {}


class Projector:
    """Records when each idea's text first appears in a state the projector receives."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.results_seen = asyncio.Event()
        self.lags: list[float] = []

    def sending(self, text: str) -> None:
        self.sent[text] = time.monotonic()

    def on_state(self, data: str) -> None:
        now = time.monotonic()
        state = json.loads(data)
        # How long the state took from the server's hands to this client (the same machine's clock).
        self.lags.append(time.time() - state["server_now"] / 1000)
        view = state["view"]
        for idea in view["ideas"]:
            if idea["text"] not in self.seen:
                self.seen[idea["text"]] = now
        if any(s["voting"] == "closed" for s in view["steps"]):
            self.results_seen.set()

    def latencies(self, after: float = 0.0) -> list[float]:
        """Idea-to-projector times, for ideas sent at `after` (time.monotonic) or later."""
        return [self.seen[t] - s for t, s in self.sent.items() if t in self.seen and s >= after]


async def participant(
    index: int,
    port: int,
    code: str,
    stats: Stats,
    projector: Projector,
    ideas: int,
    voting_open: asyncio.Event,
    streams: list[asyncio.Task[None]],
    stream_objects: list[Stream],
    changes: bool = True,
    stream_port: int | None = None,
) -> None:
    # Each phone from its own loopback address (127.0.1.x): the whole 127/8 is this machine.
    person = Person(port, stats, source=f"127.0.{1 + index // 250}.{1 + index % 250}")
    rng = random.Random(index)
    try:
        status, _ = await person.request("GET", f"/join/{code}")
        form = {"name": f"Person {index}", "csrf_token": person.csrf}
        status, _ = await person.request("POST", f"/join/{code}", form)
        if status != 303:
            stats.error(f"join {status}")
            return
        status, _ = await person.request("GET", f"/workshop/{code}")  # the page, and its CSRF token
        # As the participant's page asks: changes since the state before, or (--whole-states)
        # the whole room each time, as before 2026-12-03.
        stream = Stream(person, f"/workshop/{code}/events" + ("?changes=1" if changes else ""), port=stream_port)
        stream_objects.append(stream)
        streams.append(asyncio.create_task(stream.run()))
        await asyncio.sleep(rng.uniform(3, 10))  # reading the prompt and typing the first card
        for n in range(ideas):
            text = f"Idea {n + 1} from person {index}: {rng.choice(['parents', 'renters', 'nurses', 'students'])}"
            projector.sending(text)
            began = time.monotonic()
            status, body = await person.request("POST", f"/workshop/{code}/ideas", {"text": text}, json_reply=True)
            stats.posts.append(time.monotonic() - began)
            if status != 200:
                stats.error(f"idea {status} {body[:80]}")
            await asyncio.sleep(rng.uniform(2, 6))
        try:
            async with asyncio.timeout(120):
                await voting_open.wait()
        except TimeoutError:
            return
        await asyncio.sleep(rng.uniform(0, 3))
        # The cards the phone's page holds from its stream, as a real page votes; the whole state
        # only if the stream has brought none yet (1,000 phones asking for it at once is no room).
        numbers = sorted(int(n) for n in stream.numbers)
        if not numbers:
            status, body = await person.request("GET", f"/workshop/{code}/state")
            numbers = [i["n"] for i in json.loads(body)["view"]["ideas"]]
        for n in rng.sample(numbers, min(3, len(numbers))):
            form = {"idea": str(n), "change": "add"}
            status, body = await person.request("POST", f"/workshop/{code}/dots", form, True)
            if status != 200:
                stats.error(f"dot {status} {body[:80]}")
            await asyncio.sleep(rng.uniform(0.3, 1.5))
    except Exception as error:  # report, don't hide: a failure here is a finding
        stats.error(f"participant {index}: {error!r}")
    finally:
        await person.close()


async def run_room(
    port: int,
    info: dict[str, Any],
    people: int,
    ideas: int,
    arrival: float,
    changes: bool = True,
    stream_port: int | None = None,
) -> dict[str, Any]:
    code = info["code"]
    stats = Stats()
    projector = Projector()
    screen = Person(port, stats)
    projector_path = f"/workshop/{code}/events?as=projector&key={info['key']}"
    projector_stream = Stream(screen, projector_path, projector.on_state, port=stream_port)
    streams = [asyncio.create_task(projector_stream.run())]
    facilitator = Person(port, stats)
    await facilitator.request("GET", "/login")  # the log-in form, as the facilitator would
    form = {"email": info["email"], "password": info["password"], "csrf_token": facilitator.csrf}
    status, _ = await facilitator.request("POST", "/login", form)
    assert status in (302, 303), f"log-in answered {status}"
    status, _ = await facilitator.request("GET", f"/workshop/{code}/console")
    assert status == 200, f"console answered {status}"

    voting_open = asyncio.Event()
    phones: list[Stream] = []
    tasks = []
    started = time.monotonic()
    for i in range(people):
        args = (i, port, code, stats, projector, ideas, voting_open, streams, phones, changes, stream_port)
        tasks.append(asyncio.create_task(participant(*args)))
        await asyncio.sleep(arrival)  # people scan the QR code over a while, not in one instant
    # Voting opens once the ideas are in (or after a generous wait).
    wait_until = time.monotonic() + 90 + ideas * 8
    while time.monotonic() < wait_until and len(projector.seen) < people * ideas:
        await asyncio.sleep(0.5)
    ideas_phase = time.monotonic() - started
    await asyncio.sleep(1)
    form = {"action": "open", "dots": "3", "per_idea": "2"}
    status, body = await facilitator.request("POST", f"/workshop/{code}/steps/audiences/voting", form, True)
    if status != 200:
        stats.error(f"open voting {status} {body[:80]}")
    voting_open.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(1, started + DEADLINE_SECONDS - 60 - time.monotonic())):
            await asyncio.gather(*tasks)
    form = {"action": "close"}
    status, body = await facilitator.request("POST", f"/workshop/{code}/steps/audiences/voting", form, True)
    if status != 200:
        stats.error(f"close voting {status} {body[:80]}")
    try:
        async with asyncio.timeout(10):
            await projector.results_seen.wait()
    except TimeoutError:
        stats.error("the projector never saw the results")
    status, body = await facilitator.request("GET", f"/workshop/{code}/state?as=facilitator")
    final = json.loads(body)["view"]
    for task in [*streams, *tasks]:
        task.cancel()
    await asyncio.gather(*streams, *tasks, return_exceptions=True)
    await facilitator.close()
    latencies = projector.latencies()
    # The same, leaving out the first seconds while everyone is still joining.
    settled = projector.latencies(after=started + people * arrival + 5)
    return {
        "people": people,
        "joined": final["joined"],
        "ideas_sent": len(projector.sent),
        "ideas_seen": len(latencies),
        "dots": sum(i["votes"] or 0 for i in final["ideas"]),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "settled_p95": percentile(settled, 95) if settled else float("nan"),
        "settled_n": len(settled),
        "max": max(latencies) if latencies else float("nan"),
        "errors": stats.errors,
        "post_p50": statistics.median(stats.posts) if stats.posts else float("nan"),
        "post_p95": percentile(stats.posts, 95) if stats.posts else float("nan"),
        "lag_p50": statistics.median(projector.lags) if projector.lags else float("nan"),
        "lag_p95": percentile(projector.lags, 95) if projector.lags else float("nan"),
        "requests": stats.requests,
        "projector_states": projector_stream.states,
        "phone_states": sum(s.states for s in phones),
        "phone_mb": sum(s.received for s in phones) / 1e6,
        "ideas_phase": ideas_phase,
        "seconds": time.monotonic() - started,
    }


def warm_up(port: int) -> None:
    """Wait until every worker has loaded the app, so that start-up is not counted as load."""
    browser = Browser(port, Stats())
    for _ in range(20):
        browser.request("GET", "/join")
        browser.close()
        browser.conn = None
    time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--ideas", type=int, default=3, help="ideas per person")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=100, help="threads per gunicorn worker")
    parser.add_argument(
        "--arrival", type=float, default=ARRIVAL_GAP, help="seconds between two people joining (0.02: a stampede)"
    )
    parser.add_argument(
        "--worker-class", help="gunicorn's worker class instead of gunicorn.conf.py's (gthread: gunicorn's own; gevent)"
    )
    parser.add_argument(
        "--stream-workers",
        type=int,
        default=1,
        help="workers of the stream server (gunicorn.streams.conf.py); 0: the app's own workers carry the streams",
    )
    parser.add_argument("--sqlite", action="store_true", help="the embedded default: flask run and SQLite")
    parser.add_argument(
        "--whole-states", action="store_true", help="phones ask for the whole room each time, not the changes"
    )
    args = parser.parse_args()
    if not 1 <= args.people <= 1000 or not 1 <= args.ideas <= 10:
        parser.error("1-1000 people, 1-10 ideas each")

    with contextlib.ExitStack() as stack:
        if args.sqlite:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="planner-bench-")))
            database_url = f"sqlite:///{tmp / 'bench.sqlite'}"
            info = prepare(database_url, args.people)
            port, server = stack.enter_context(flask_run(database_url))
            setup = "flask run (threaded), SQLite"
        else:
            database_url = stack.enter_context(postgres())
            info = prepare(database_url, args.people)
            port, server = stack.enter_context(gunicorn(database_url, args.workers, args.threads, args.worker_class))
            if args.worker_class is None:
                setup = f"gunicorn, {args.workers} workers (gunicorn.conf.py's) x {args.threads} threads, PostgreSQL"
            elif args.worker_class == "gthread":
                setup = f"gunicorn, {args.workers} gthread workers x {args.threads} threads, PostgreSQL"
            else:
                setup = f"gunicorn, {args.workers} {args.worker_class} workers, PostgreSQL"
        stream_port = None
        roots = {"app": server.pid}
        if args.stream_workers and not args.sqlite:
            stream_port, streams = stack.enter_context(stream_server(database_url, args.stream_workers))
            roots["streams"] = streams.pid
            setup += f"; streams: {args.stream_workers} gevent worker(s)"
            warm_up(stream_port)
        warm_up(port)
        pg = None if args.sqlite else postmaster_pid(database_url)
        roots.update({"postgres": pg} if pg else {})
        cpu_before = {name: cpu_seconds(process_tree(pid)) for name, pid in roots.items()}
        sampler = Sampler(roots)
        sampler.start()
        client_before = sum(os.times()[:2])
        load_before = os.getloadavg()[0]
        room = run_room(port, info, args.people, args.ideas, args.arrival, not args.whole_states, stream_port)
        result = asyncio.run(room)
        client_cpu = sum(os.times()[:2]) - client_before
        sampler.stop.set()
        load_after = os.getloadavg()[0]
        cpu = {name: cpu_seconds(process_tree(pid)) - cpu_before[name] for name, pid in roots.items()}

    wall = result["seconds"]
    print(f"### {result['people']} people, {args.ideas} ideas each, one joining every {args.arrival:g} s: {setup}\n")
    print("| measure | result |\n|---|---|")
    print(f"| joined | {result['joined']} of {result['people']} |")
    print(f"| ideas sent / seen on the projector | {result['ideas_sent']} / {result['ideas_seen']} |")
    print(f"| idea to projector, p50 | {result['p50'] * 1000:.0f} ms |")
    print(f"| idea to projector, p95 | {result['p95'] * 1000:.0f} ms |")
    print(f"| idea to projector, max | {result['max'] * 1000:.0f} ms |")
    print(
        f"| idea to projector, p95 once everyone has joined ({result['settled_n']} ideas) |"
        f" {result['settled_p95'] * 1000:.0f} ms |"
    )
    post = f"{result['post_p50'] * 1000:.0f} / {result['post_p95'] * 1000:.0f} ms"
    print(f"| adding an idea (POST to response), p50 / p95 | {post} |")
    lag = f"{result['lag_p50'] * 1000:.0f} / {result['lag_p95'] * 1000:.0f} ms"
    print(f"| a state from the server's hands to the projector's client, p50 / p95 | {lag} |")
    print(f"| dots placed | {result['dots']} |")
    print(f"| HTTP requests (besides streams) | {result['requests']} in {wall:.0f} s |")
    print(f"| states the projector received | {result['projector_states']} |")
    what = "whole states" if args.whole_states else "changes"
    print(f"| states the phones received ({what}) | {result['phone_states']}, {result['phone_mb']:.0f} MB |")
    print(f"| errors | {len(result['errors'])} |")
    for name in roots:
        print(f"| {name} CPU | {cpu[name]:.1f} s over {wall:.0f} s ({cpu[name] / wall * 100:.0f}% of one core) |")
        print(f"| {name} peak memory (PSS, all processes) | {sampler.peak[name]:.0f} MB |")
        print(f"| {name} peak memory (RSS, all processes) | {sampler.peak_rss[name]:.0f} MB |")
    share = client_cpu / wall * 100
    print(f"| load client CPU (this script, same machine) | {client_cpu:.1f} s ({share:.0f}% of one core) |")
    print(f"| machine load average (1 min), before / after | {load_before:.1f} / {load_after:.1f} |")
    if result["errors"]:
        print("\nErrors, by kind:")
        kinds = Counter(re.sub(r"\d+", "N", error)[:100] for error in result["errors"])
        for kind, count in kinds.most_common(10):
            print(f"- {count} x {kind}")


if __name__ == "__main__":
    main()
