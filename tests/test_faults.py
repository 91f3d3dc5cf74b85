"""Faults: a worker killed in the middle of a save, and SQLite under concurrent writers.

A save is one transaction, so a gunicorn worker killed with SIGKILL while it is inside one
leaves nothing half-written: an import is wholly absent, an edited item exactly as it was, the
plan's revision and history untouched; gunicorn starts a new worker, which answers the next
request, and the same save then goes through. The kill is not a race: the served app
(tests/faults/server.py) stops right before COMMIT, with every row written, and tells the test
its process id. Each runs on SQLite, and on PostgreSQL in the pass that has TEST_DATABASE_URL.

Several processes saving to one SQLite file at once must each wait their turn, not fail with
"database is locked" (planner/sqlite.py says why they did, and what fixed it); every save that
answered success must be in the database.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from config import TestConfig
from planner import create_app
from planner.domain.limits import REF_ITEMS
from planner.extensions import db
from planner.interchange.transfer import wrap
from tests.faults import writers
from tests.plan_factory import large_plan

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long test password"
EMAIL = "killed@example.org"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.server  # gunicorn, or several writer processes, of each test's own


# ---------------------------------------------------------------- databases


def _migrated(url: str) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _fresh_postgres() -> tuple[str, Any]:
    """A new, empty database in the test cluster, and a function that drops it."""
    name = f"planner_faults_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of its own: SQLite in the SQLite pass, PostgreSQL in the other."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL runs in the pass with TEST_DATABASE_URL")
    if request.param == "sqlite" and PG_URL:
        pytest.skip("SQLite ran in the SQLite pass")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'planner.sqlite'}"
    else:
        url, drop = _fresh_postgres()
    _migrated(url)
    yield url
    if drop:
        drop()


def _with_app(url: str, work: Any) -> Any:
    """Run `work()` in an app context on `url`, and close every connection afterwards."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()
            db.engine.dispose()


# ---------------------------------------------------------------- a gunicorn of our own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving tests/faults/server.py with one worker, so the next request after a
    kill can only land on the worker gunicorn starts in its place."""

    def __init__(self, url: str, fault_dir: Path) -> None:
        self.fault_dir = fault_dir
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.log = fault_dir / "gunicorn.log"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "faults-test",
            "PDF_CACHE_DIR": "",
            "PLANNER_FAULT_DIR": str(fault_dir),
        }
        args = ["--workers", "1", "--threads", "4", "--bind", self.base.removeprefix("http://")]
        args += ["--timeout", "60", "--graceful-timeout", "2", "--max-requests", "0"]
        # Loaded once, before the fork: a restarted worker is up at once instead of importing
        # the app again. What a kill does to a transaction is the same either way.
        args += ["--preload"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "tests.faults.server:app", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.tail()
            try:
                requests.get(self.base + "/login", timeout=30).close()
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start\n" + self.tail())

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def arm(self, path: str, commit: int = 1) -> None:
        """Stop the `commit`-th commit of the next request to `path` just before COMMIT."""
        (self.fault_dir / "inside").unlink(missing_ok=True)
        (self.fault_dir / "armed").write_text(json.dumps({"path": path, "commit": commit}))

    def inside(self, timeout: float = 15) -> int:
        """The process id of the worker waiting inside the save."""
        marker = self.fault_dir / "inside"
        deadline = time.monotonic() + timeout
        while not marker.exists():
            assert time.monotonic() < deadline, "the save never reached its commit\n" + self.tail()
            time.sleep(0.02)
        return int(marker.read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)  # quick shutdown: nothing is left to finish
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Browser:
    """A requests session that logs in through the page and sends CSRF tokens like a form."""

    CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()

    def token(self, page: str = "/login") -> str:
        match = self.CSRF.search(self.get(page).text)
        assert match, "every page carries the CSRF token"
        return match.group(1)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, allow_redirects=False)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.http.post(self.base + path, data=data, timeout=30, allow_redirects=False, **kwargs)

    def log_in(self) -> None:
        answer = self.post("/login", {"csrf_token": self.token(), "email": EMAIL, "password": PASSWORD})
        assert answer.status_code == 302, answer.text[:500]

    def close(self) -> None:
        self.http.close()


def _prepare(url: str) -> int:
    """The account the browser logs in as, and a large plan it facilitates; returns its id."""
    from planner.accounts import membership, users
    from planner.plans import store

    def work() -> int:
        user = users.create_user(EMAIL, "Kim Killed", PASSWORD)
        plan = store.create_from_doc(large_plan(), user)
        membership.own(plan, user)
        return plan.id

    return _with_app(url, work)


@pytest.fixture(scope="module")
def served(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Browser, int]]:
    plan_id = _prepare(database)
    server = Server(database, tmp_path_factory.mktemp("fault"))
    browser = Browser(server.base)
    try:
        browser.log_in()
        yield server, browser, plan_id
    finally:
        browser.close()
        server.stop()


def _tally(url: str) -> dict[str, int]:
    """How many rows of every table, and each plan's revision."""

    def work() -> dict[str, int]:
        from planner.models import Plan

        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
        counts.pop("rate_limit_counters", None)  # log-ins count here, saves do not
        for plan_id, revision in db.session.execute(select(Plan.id, Plan.revision)):
            counts[f"plan {plan_id} revision"] = revision
        return counts

    return _with_app(url, work)


def _kill_inside(server: Server, send: Any) -> None:
    """Send a request in a thread, kill the worker once it is inside the save, and check that
    the request died with it."""
    outcome: list[Any] = []

    def request() -> None:
        try:
            outcome.append(send())
        except requests.ConnectionError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=request)
    thread.start()
    pid = server.inside()
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=30)
    assert outcome and isinstance(outcome[0], requests.ConnectionError), f"the request was answered: {outcome}"
    deadline = time.monotonic() + 10
    while _alive(pid):  # until gunicorn has noticed, and reaped it
        assert time.monotonic() < deadline, "the killed worker is still there"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ---------------------------------------------------------------- killed in the middle of a save


def test_an_import_killed_before_its_commit_leaves_no_plan(served: tuple[Server, Browser, int], database: str):
    server, browser, _plan_id = served
    document = json.dumps(wrap(large_plan(seed=7))).encode()
    before = _tally(database)
    token = browser.token("/plans/import")

    def upload() -> requests.Response:
        files = {"file": ("plan.json", document, "application/json")}
        return browser.post("/plans/import", {"csrf_token": token}, files=files)

    server.arm("/plans/import")
    _kill_inside(server, upload)

    assert _tally(database) == before, "the killed import left rows behind"
    home = browser.get("/")  # waits for the worker gunicorn starts in the killed one's place
    assert home.status_code == 200, server.tail()
    again = upload()
    assert again.status_code == 303, server.tail()
    after = _tally(database)
    assert after["plans"] == before["plans"] + 1
    assert after["practices"] == 2 * before["practices"]


class _FormReader(HTMLParser):
    """The values a browser would send for a form: text inputs, textareas, checked boxes,
    selected options; and every checkbox there is."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.checkboxes: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") == "checkbox":
                self.checkboxes.append((name, a.get("value", "y")))
                if "checked" in a:
                    self.values.append((name, a.get("value", "y")))
            elif a.get("type") not in ("submit", "button"):
                self.values.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.append((name, ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, value = self.values.pop()
            self.values.append((name, value + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def test_an_item_save_killed_before_its_commit_changes_nothing(served: tuple[Server, Browser, int], database: str):
    server, browser, plan_id = served
    key = "pr1"
    path = f"/plans/{plan_id}/items/practice/{key}"
    form = _FormReader()
    form.feed(browser.get(f"{path}/edit?fragment=1").text)
    # As many audiences, channels and people ticked as a practice may name: a save of many
    # rows, not one.
    ticked = {name for name, _ in form.checkboxes}
    assert len(form.checkboxes) > 90, "the practice form offers every audience, channel and person"
    values = [(n, v) for n, v in form.values if n not in ticked]
    values += [(n, v) for name in ticked for n, v in [c for c in form.checkboxes if c[0] == name][:REF_ITEMS]]
    exported = f"/plans/{plan_id}/export.json"
    before, tally = browser.get(exported).json(), _tally(database)
    assert len(before["plan"]["practices"][0]["segments"]) < REF_ITEMS

    server.arm(path)
    _kill_inside(server, lambda: browser.post(path, values))

    assert _tally(database) == tally, "the killed save left rows behind or moved the revision on"
    after = browser.get(exported)  # answered by the worker gunicorn started in its place
    assert after.status_code == 200, server.tail()
    assert after.json() == before
    again = browser.post(path, values)
    assert again.status_code == 302, server.tail()
    saved = browser.get(exported).json()["plan"]["practices"][0]
    assert len(saved["segments"]) == REF_ITEMS
    assert _tally(database)[f"plan {plan_id} revision"] == tally[f"plan {plan_id} revision"] + 1


# ---------------------------------------------------------------- SQLite and several writing processes

PEOPLE = 4
SECONDS = 3.0


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's own locking; ran in the SQLite pass")
def test_sqlite_concurrent_writers_are_never_told_the_database_is_locked(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    _migrated(url)
    shared = writers.prepare(url, PEOPLE)
    # Forked, so that each process need not import the app again; each builds its own app
    # and engine, and the parent holds no connection to this file.
    fork = multiprocessing.get_context("fork")
    start, results = fork.Barrier(PEOPLE), fork.Queue()
    processes = [
        fork.Process(target=writers.write_for_a_while, args=(n, shared, start, SECONDS, results)) for n in range(PEOPLE)
    ]
    for process in processes:
        process.start()
    done = sorted((results.get(timeout=120) for _ in processes), key=lambda d: d["n"])
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    report = [(d["n"], d["statuses"], d["locked"], d["errors"][:1]) for d in done]
    assert sum(d["fivexx"] for d in done) == 0, report
    assert sum(d["locked"] for d in done) == 0, report
    assert all(d["added"] and d["fields"] and d["ideas"] for d in done), report
    _assert_every_success_is_saved(url, shared, done)


def _assert_every_success_is_saved(url: str, shared: dict[str, Any], done: list[dict[str, Any]]) -> None:
    from planner.accounts.models import RateLimitCounter, User
    from planner.models import ITEM_MODELS
    from planner.plans.models import Change
    from planner.workshop.models import Idea, Participant, Vote

    concern = ITEM_MODELS["concern"]

    def work() -> None:
        for d in done:
            n = d["n"]
            user = db.session.scalar(select(User).where(User.email == writers.email_of(n)))
            titles = set(db.session.scalars(select(concern.concern).where(concern.concern.like(f"p{n}-%"))))
            assert titles == set(d["added"])
            own = db.session.scalar(select(concern.concern).where(concern.key == shared["concerns"][n]))
            assert own == d["updated"]
            # Each save that answered success recorded exactly one change, in the same transaction.
            changes = db.session.scalar(select(func.count()).select_from(Change).where(Change.user_id == user.id))
            assert changes == 1 + len(d["added"]) + d["updates"] + d["fields"]  # 1: the concern from prepare()
            guest = db.session.scalar(select(Participant.id).where(Participant.name == f"Guest {n}"))
            ideas = db.session.scalar(select(func.count()).select_from(Idea).where(Idea.participant_id == guest))
            assert ideas == d["ideas"]
            dots = dict(
                db.session.execute(
                    select(Idea.number, Vote.dots)
                    .join(Vote, Vote.idea_id == Idea.id)
                    .where(Vote.participant_id == guest)
                ).all()
            )
            assert {str(k): v for k, v in dots.items()} == {k: v for k, v in d["dots"].items() if v}
            key = "account:" + hashlib.sha256(writers.email_of(n).encode()).hexdigest()[:32]
            counted = db.session.scalar(
                select(func.sum(RateLimitCounter.count)).where(RateLimitCounter.key.contains(key))
            )
            assert counted == d["logins"]

    _with_app(url, work)
