"""No single guest can stop the room: the caps on open live-update streams.

One guest cookie once opened 200 event streams and took every gunicorn thread, and the whole
site stopped answering. Now streams are counted in each process (planner/workshop/live.py) per
viewer (a participant, a facilitator's account, a session's projector link), per session and per
process, and past a cap the OLDEST stream ends with a `closed` event, after which its page polls.
The first tests drive the streams through the test client, iterating each response's body as a
server would; the last one runs gunicorn with gunicorn.conf.py and a handful of threads, and opens
more streams than it has threads.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g

from planner.extensions import db
from planner.workshop import operations as ops
from tests.conftest import Web

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app: Flask) -> Any:
    """Several browsers take turns inside the test's app context: forget the last CSRF token."""

    def forget() -> None:
        g.pop("csrf_token", None)

    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(0, forget)
    yield
    funcs.remove(forget)


@pytest.fixture
def quick(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams that ping often and end soon, so that a test never waits long on one."""
    monkeypatch.setitem(app.config, "WORKSHOP_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 3.0)


@pytest.fixture
def code(web: Any, example_plan: Any) -> str:
    response = web.post(f"/plans/{example_plan.id}/workshops", {"step": "audiences"})
    return re.search(r"/workshop/([A-Z0-9]{8})/console$", response.headers["Location"]).group(1)


class Open:
    """An event stream opened through the test client, read event by event as a server would
    write it to the socket."""

    def __init__(self, client: Any, url: str) -> None:
        self.response = client.get(url, buffered=False)
        assert self.response.status_code == 200
        self.body: Iterator[Any] = iter(self.response.response)
        assert "event: hello" in self.next()

    def next(self) -> str:
        chunk = next(self.body, b"")
        return chunk.decode() if isinstance(chunk, bytes) else chunk

    def rest(self) -> str:
        """Everything the stream still sends until it ends (bounded by WORKSHOP_STREAM_SECONDS)."""
        return "".join(chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in self.body)

    def close(self) -> None:
        self.response.close()


def alive(event: str) -> bool:
    """A state or a keep-alive: the stream goes on."""
    return event.startswith(("id: ", "event: ping"))


def closed_reason(event: str) -> str | None:
    if not event.startswith("event: closed\n"):
        return None
    data = json.loads(event.split("data: ", 1)[1])
    assert data["retry_ms"] >= 30_000  # the page polls a while before it streams again
    return data["reason"]


def test_one_cookie_past_the_cap_ends_its_oldest_streams_and_the_site_answers(
    app: Flask, anonymous: Web, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PARTICIPANT", 3)
    assert anonymous.post(f"/join/{code}", {"name": "Mallory"}).status_code == 303
    streams = [Open(anonymous.client, f"/workshop/{code}/events") for _ in range(5)]
    try:
        # The two oldest were ended, each with a last word for its page, and nothing after it.
        for oldest in streams[:2]:
            assert closed_reason(oldest.next()) == "viewer"
            assert oldest.rest() == ""
        # The three newest go on: a keep-alive, not a goodbye.
        for newest in streams[2:]:
            assert alive(newest.next())
        # And the room's state still answers the same cookie.
        assert anonymous.get(f"/workshop/{code}/state").status_code == 200
    finally:
        for stream in streams:
            stream.close()


def test_a_closed_stream_no_longer_counts(
    app: Flask, anonymous: Web, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that was reloaded, its old stream ended, gets its full share again."""
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PARTICIPANT", 2)
    anonymous.post(f"/join/{code}", {"name": "Ana"})
    first, second = (
        Open(anonymous.client, f"/workshop/{code}/events"),
        Open(anonymous.client, f"/workshop/{code}/events"),
    )
    first.close()
    third = Open(anonymous.client, f"/workshop/{code}/events")
    try:
        assert alive(second.next())
        assert alive(third.next())
    finally:
        second.close()
        third.close()


def test_past_the_session_cap_the_rooms_oldest_stream_ends(
    app: Flask, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_SESSION", 2)
    people = [Web(app.test_client()) for _ in range(3)]
    streams = []
    try:
        for n, person in enumerate(people):
            assert person.post(f"/join/{code}", {"name": f"Person {n}"}).status_code == 303
            streams.append(Open(person.client, f"/workshop/{code}/events"))
        assert closed_reason(streams[0].next()) == "session"
        assert all(alive(s.next()) for s in streams[1:])
    finally:
        for stream in streams:
            stream.close()


def test_projector_and_console_streams_are_capped_too(
    app: Flask, web: Web, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PARTICIPANT", 2)
    for audience in ("projector", "facilitator"):
        streams = [Open(web.client, f"/workshop/{code}/events?as={audience}") for _ in range(3)]
        try:
            assert closed_reason(streams[0].next()) == "viewer", audience
            assert all(alive(s.next()) for s in streams[1:]), audience
        finally:
            for stream in streams:
                stream.close()


def test_past_the_process_ceiling_the_oldest_stream_of_any_session_ends(
    app: Flask, anonymous: Web, web: Web, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PROCESS", 2)
    anonymous.post(f"/join/{code}", {"name": "Ana"})
    streams = [
        Open(anonymous.client, f"/workshop/{code}/events"),
        Open(web.client, f"/workshop/{code}/events?as=projector"),
        Open(web.client, f"/workshop/{code}/events?as=facilitator"),
    ]
    try:
        assert closed_reason(streams[0].next()) == "server"
        assert all(alive(s.next()) for s in streams[1:])
    finally:
        for stream in streams:
            stream.close()


def _projector_link(web: Web, code: str) -> str:
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    key = re.search(r'/projector\?key=([^"&]+)"', console).group(1)
    return f"/workshop/{code}/events?as=projector&key={key}"


def test_members_watching_the_projector_view_leave_the_room_projector_its_stream(
    app: Flask, web: Web, as_user: Any, viewer: Any, editor: Any, code: str, quick: None
) -> None:
    big_screen = Open(app.test_client(), _projector_link(web, code))
    vera, eddie = as_user(viewer), as_user(editor)
    # Four members watch the projector view from their desks, signed in, without its link.
    members = [Open(who.client, f"/workshop/{code}/events?as=projector") for who in (web, vera, eddie, vera)]
    try:
        assert alive(big_screen.next())
        assert all(alive(s.next()) for s in members)
    finally:
        for stream in [big_screen, *members]:
            stream.close()


def test_past_the_process_ceiling_the_phone_holding_most_gives_one_up(
    app: Flask, web: Web, code: str, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the console, not the room's projector, not the phone with one stream."""
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PROCESS", 4)
    console = Open(web.client, f"/workshop/{code}/events?as=facilitator")
    projector = Open(app.test_client(), _projector_link(web, code))
    ana, bob = Web(app.test_client()), Web(app.test_client())
    assert ana.post(f"/join/{code}", {"name": "Ana"}).status_code == 303
    assert bob.post(f"/join/{code}", {"name": "Bob"}).status_code == 303
    anas = Open(ana.client, f"/workshop/{code}/events")
    bobs = [Open(bob.client, f"/workshop/{code}/events") for _ in range(2)]
    streams = [console, projector, anas, *bobs]
    try:
        assert closed_reason(bobs[0].next()) == "server"
        assert all(alive(s.next()) for s in (console, projector, anas, bobs[1]))
    finally:
        for stream in streams:
            stream.close()


def test_in_a_big_room_each_phone_gets_the_room_less_often(
    app: Flask, anonymous: Web, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process sends a session's phones at most WORKSHOP_PHONE_STATES_PER_SECOND states a
    second in all: here 1, with two phones open, so each waits 2 s between states."""
    monkeypatch.setitem(app.config, "WORKSHOP_PHONE_STATES_PER_SECOND", 1.0)
    monkeypatch.setitem(app.config, "WORKSHOP_PARTICIPANT_GAP_SECONDS", 0.0)
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 10.0)
    other = Web(app.test_client())
    anonymous.post(f"/join/{code}", {"name": "Ana"})
    other.post(f"/join/{code}", {"name": "Bo"})
    mine, theirs = Open(anonymous.client, f"/workshop/{code}/events"), Open(other.client, f"/workshop/{code}/events")
    try:
        assert mine.next().startswith("id: ")  # the state as it is, at once
        mine.next()  # its personal ending
        assert anonymous.post(f"/workshop/{code}/ideas", {"text": "Parents"}).status_code == 302
        began = time.monotonic()
        assert mine.next().startswith("id: ")
        assert 1.5 <= time.monotonic() - began < 5
    finally:
        mine.close()
        theirs.close()


# ---------------------------------------------------------------- gunicorn, for real


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawStream(threading.Thread):
    """An event stream over a real socket, read line by line in a thread of its own."""

    def __init__(self, port: int, path: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.conn.request("GET", path, headers={"Cookie": cookie})
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        self.hello = threading.Event()
        self.ended = threading.Event()
        self.lines: list[str] = []

    def run(self) -> None:
        try:
            while line := self.response.readline():
                self.lines.append(line.decode())
                if line.startswith(b"event: hello"):
                    self.hello.set()
        except (OSError, http.client.HTTPException):
            pass
        finally:
            self.ended.set()

    def stop(self) -> None:
        if self.conn.sock is not None:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.join(10)
        self.response.close()
        self.conn.close()


@pytest.mark.server
def test_forty_streams_from_one_cookie_leave_gunicorn_answering(
    app: Flask, ctx: Flask, example_plan: Any, database_url: str, tmp_path: Path
) -> None:
    """gunicorn with gunicorn.conf.py, one worker of 4 threads, against the tests' database.
    Before the caps, the fifth stream waited forever for a thread and so did every page."""
    ws = ops.start_session(example_plan, step="audiences")
    code = ws.code
    db.session.commit()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "FLASK_", "WORKSHOP_", "MAIL_"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_hex(32), PDF_PRERENDER="0", PLANNER_THREADS="4")
    log = tmp_path / "gunicorn.log"
    command = [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--workers", "1"]
    with log.open("w") as out:
        server = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, to end its workers with it
        )
    streams: list[RawStream] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
        cookies: dict[str, str] = {}

        def request(method: str, path: str, body: str | None = None) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            text = reply.read().decode()
            for name, value in reply.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";", 1)[0]
            conn.close()
            return reply.status, text

        _, page = request("GET", f"/join/{code}")
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        status, _ = request("POST", f"/join/{code}", f"name=Mallory&csrf_token={token}")
        assert status == 303, status
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())

        for _ in range(40):
            stream = RawStream(port, f"/workshop/{code}/events", cookie)
            stream.start()
            streams.append(stream)
            # Each new stream gets a thread and says hello: an older one made room for it.
            assert stream.hello.wait(10), f"stream {len(streams)} never started:\n{log.read_text()[-2000:]}"
        # All but the newest three (the worker keeps one thread of its four for pages) ended,
        # each told so.
        for stream in streams[:-3]:
            assert stream.ended.wait(10)
            assert "event: closed\n" in stream.lines
        assert not any(s.ended.is_set() for s in streams[-3:])
        # And the site answers, quickly, the same guest and anybody else.
        began = time.monotonic()
        assert request("GET", f"/workshop/{code}/state")[0] == 200
        cookies.clear()
        assert request("GET", f"/join/{code}")[0] == 200
        assert time.monotonic() - began < 3
    finally:
        for stream in streams:
            stream.stop()
        # SIGINT is gunicorn's quick shutdown, but a worker still waits for its streams to
        # notice their sockets closed (at the next keep-alive): end the server's group instead.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(2)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
