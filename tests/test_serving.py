"""How gunicorn serves Planner: the threaded worker (gunicorn.conf.py) keeps answering while a
client is slow to close, and the stream server carries a room's streams with no thread each.

Both start real gunicorn processes on loopback, against a database of the test's own in the
PostgreSQL pass of `make test` (TEST_DATABASE_URL), as deploy/ runs them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SECRET = secrets.token_hex(32)
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own, migrated, with a facilitator, a plan and a live workshop."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("starts gunicorn on PostgreSQL: it runs in the PostgreSQL pass of `make test` (TEST_DATABASE_URL)")
    admin_url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"planner_serving_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def gunicorn(args: list[str], database_url: str, log: Path) -> Iterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "TEST_", "FLASK_"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET, PDF_PRERENDER="0")
    with log.open("w") as out:
        process = subprocess.Popen(
            [GUNICORN, *args, "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str, source: str = "127.0.0.1", headers: dict[str, str] | None = None) -> socket.socket:
    """Send a GET on a new connection and return the connection, its answer unread."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(source, 0))
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


@pytest.mark.server
@pytest.mark.postgres
def test_a_client_slow_to_close_does_not_stop_the_worker_answering_others(database: str, tmp_path: Path) -> None:
    """gunicorn 27's own threaded worker waits up to 2 s on its main loop for each client that
    asked to close and has not yet: six such clients held every other visitor for 12 s."""
    args = ["-c", "gunicorn.conf.py", "--workers", "1", "--threads", "8", "app:app"]
    with gunicorn(args, database, tmp_path / "log") as port, contextlib.ExitStack() as sockets:
        lingering = [get(port, "/healthz", headers={"Connection": "close"}) for _ in range(6)]
        for sock in lingering:
            sockets.callback(sock.close)
            assert answer(sock)[0] == 200  # answered; the client keeps its end open
        began = time.monotonic()
        probe = get(port, "/healthz")
        sockets.callback(probe.close)
        status, body = answer(probe)
        waited = time.monotonic() - began
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        assert waited < 1.5, f"another visitor waited {waited:.1f} s behind clients slow to close"


def answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the response on `sock`, read whole; the socket stays open."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


def prepare_workshop(database_url: str) -> tuple[str, str]:
    """Migrate; a facilitator, a plan and a live workshop session. Returns (code, projector key)."""
    from flask_migrate import upgrade

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
        user = User(email="host@example.org", name="Host", password_hash="!")
        db.session.add(user)
        plan = store.create_from_doc(example_document()["plan"])
        db.session.add(Membership(plan_id=plan.id, user_id=user.id, role="facilitator"))
        db.session.commit()
        ws = ops.start_session(plan, user, "audiences")
        with app.test_request_context():
            key = access.projector_key(ws)
        code = ws.code
        db.session.remove()
        db.engine.dispose()
    return code, key


class Phone:
    """A guest's browser: cookies, the CSRF token, requests on the app's port."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20, source_address=(self.source, 0))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.csrf}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        if match := CSRF.search(data):
            self.csrf = match.group(1)
        return response.status, data


@pytest.mark.server
@pytest.mark.postgres
def test_the_stream_server_carries_a_room_far_larger_than_the_app_has_threads(database: str, tmp_path: Path) -> None:
    """Forty phones on an app server of 4 threads, which could hold 3 streams itself: with the
    stream server (gunicorn.streams.conf.py, app:streams) every phone stays live, and a card
    added on one reaches all of them."""
    code, _ = prepare_workshop(database)
    app_args = ["-c", "gunicorn.conf.py", "--workers", "1", "--threads", "4", "app:app"]
    with (
        contextlib.ExitStack() as stack,
        gunicorn(app_args, database, tmp_path / "app.log") as app_port,
        gunicorn(["-c", "gunicorn.streams.conf.py", "app:streams"], database, tmp_path / "streams.log") as streams_port,
    ):
        phones = []
        for n in range(40):
            phone = Phone(app_port, f"127.0.2.{n + 1}")
            phone.request("GET", f"/join/{code}")
            status, _ = phone.request("POST", f"/join/{code}", {"name": f"Guest {n}", "csrf_token": phone.csrf})
            assert status == 303
            phone.request("GET", f"/workshop/{code}")
            phones.append(phone)

        received: dict[int, bytes] = {}
        lock = threading.Lock()
        streams = []
        open_streams = stack.enter_context(contextlib.ExitStack())
        for phone in phones:
            cookie = "; ".join(f"{k}={v}" for k, v in phone.cookies.items())
            streams.append(get(streams_port, f"/workshop/{code}/events?changes=1", phone.source, {"Cookie": cookie}))
            open_streams.callback(streams[-1].close)

        def listen(n: int, sock: socket.socket) -> None:
            data = b""
            sock.settimeout(20)
            with contextlib.suppress(OSError):
                while b"A card for everyone" not in data and (chunk := sock.recv(65536)):
                    data += chunk
            with lock:
                received[n] = data

        listeners = [threading.Thread(target=listen, args=(n, s), daemon=True) for n, s in enumerate(streams)]
        for listener in listeners:
            listener.start()
        time.sleep(1)  # every phone has its stream open and its first state
        status, body = phones[0].request("POST", f"/workshop/{code}/ideas", {"text": "A card for everyone"})
        assert status == 302, body[:300]  # back to the phone's page, the card kept
        for listener in listeners:
            listener.join(25)

    assert len(received) == 40
    live = [n for n, data in received.items() if data.startswith(b"HTTP/1.1 200") and b"A card for everyone" in data]
    assert len(live) == 40, {n: data[:300] for n, data in received.items() if n not in live}
    assert all(b"event: state" in data.split(b"A card for everyone")[0] for data in received.values())
    assert not any(b"event: closed" in data for data in received.values())


def test_the_stream_server_serves_nothing_but_streams() -> None:
    from planner.serving import StreamsOnly

    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [])
        return [b"app"]

    streams = StreamsOnly(app)
    answers = {}

    def start_response(status: str, headers: Any) -> None:
        statuses.append(status)

    statuses: list[str] = []
    for method, path in [
        ("GET", "/workshop/ABCD2345/events"),
        ("GET", "/healthz"),
        ("GET", "/plans/1/document.pdf"),
        ("POST", "/workshop/ABCD2345/events"),
        ("GET", "/workshop/ABCD2345/events/extra"),
        ("GET", "/login"),
    ]:
        body = b"".join(streams({"REQUEST_METHOD": method, "PATH_INFO": path}, start_response))
        answers[f"{method} {path}"] = (statuses[-1][:3], body)
    assert seen == ["GET /workshop/ABCD2345/events", "GET /healthz"]
    assert [status for status, _ in answers.values()] == ["200", "200", "404", "404", "404", "404"]
    assert answers["GET /login"][1] == b"This server carries the workshop's live streams only.\n"


def test_gunicorns_master_loads_its_worker_without_importing_the_app() -> None:
    """gunicorn's master reads gunicorn.conf.py and loads the worker class; on a reload (SIGHUP)
    it forks new workers from itself. Had it imported any of the app, they would start with that
    part of the old code beside the new."""
    script = (
        "import runpy, sys; from gunicorn.util import load_class;"
        " settings = runpy.run_path('gunicorn.conf.py');"
        " load_class(settings['worker_class']);"
        " print(sorted(m for m in sys.modules if m == 'app' or m.split('.')[0] in ('planner', 'config')))"
    )
    found = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]", found.stdout
