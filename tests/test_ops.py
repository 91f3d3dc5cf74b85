"""Running in production: /healthz, request ids and log lines, error pages, the database going
away and coming back, and the SECRET_KEY a server refuses to start with."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_login import current_user
from sqlalchemy import func, select

from config import Config, TestConfig, instance_secret_key
from planner import create_app
from planner.accounts.models import User
from planner.extensions import db
from planner.models import Plan
from tests.conftest import Web, reset_schema

UNAVAILABLE = "Planner cannot reach its database right now"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "planner.request"]


def log_in(client: Any, user_id: str) -> None:
    """A session as the log-in page leaves it (`user_id` as `User.get_id()` gives it)."""
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True


# ---------------------------------------------------------------- /healthz


def test_healthz_says_the_database_answers_without_a_login_or_a_cookie(anonymous: Any) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert "no-store" in response.headers["Cache-Control"].split(", ")
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def app_without_database(tmp_path: Path) -> Flask:
    """An app whose SQLite file cannot be opened (its folder does not exist): the database is away."""
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'planner.sqlite'}"
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, PROPAGATE_EXCEPTIONS=False)


def test_healthz_answers_503_when_the_database_does_not(app_without_database: Flask) -> None:
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unavailable"}
    assert "no-store" in response.headers["Cache-Control"].split(", ")


# ---------------------------------------------------------------- the database is away


def test_a_page_says_the_database_is_away_and_when_to_try_again(app_without_database: Flask) -> None:
    client = app_without_database.test_client()
    log_in(client, "1")  # the page must load the account, so it needs the database

    response = client.get("/?tab=mine")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    assert UNAVAILABLE in page
    assert "Your last saved work is safe" in page
    assert response.headers["X-Request-ID"] in page
    assert 'href="/?tab=mine">Try again' in page
    assert "OperationalError" not in page and "sqlite" not in page.lower()


def test_a_script_is_told_in_json(app_without_database: Flask) -> None:
    client = app_without_database.test_client()
    log_in(client, "1")
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert response.json["database"] == "unavailable"
    assert "Try again in a minute" in response.json["error"]
    assert response.json["request_id"] == response.headers["X-Request-ID"]


def test_a_missing_table_is_a_bug_not_an_outage(tmp_path: Path) -> None:
    """SQLite reports "no such table" (migrations not run) as an OperationalError too."""
    unmigrated = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite'}", PROPAGATE_EXCEPTIONS=False
    )
    client = unmigrated.test_client()
    log_in(client, "1")
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


# ---------------------------------------------------------------- error pages


def test_a_500_apologises_with_a_request_id_and_no_stack_trace(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_app.test_client().get("/fail")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert "Something went wrong on our side" in page
    assert f'<code class="request-id">{request_id}</code>' in page
    assert 'href="/">Go to your plans' in page
    assert "Traceback" not in page and "secret detail" not in page
    # The traceback is in the log, under the same request id.
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert error.request_id == request_id
    assert "secret detail of the failure" in caplog.text


def test_a_500_for_someone_logged_in_keeps_the_site_layout(
    failing_app: Flask, owner: User, caplog: pytest.LogCaptureFixture
) -> None:
    @failing_app.get("/fail-after-greeting")
    def fail_after_greeting() -> str:
        greeting = f"Hello {current_user.name}"  # the account is loaded before the failure
        raise RuntimeError(greeting)

    client = failing_app.test_client()
    with failing_app.app_context():
        log_in(client, owner.get_id())  # get_id() starts a server-side session: it needs the app
    response = client.get("/fail-after-greeting")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert owner.name in page  # the header still says who is logged in
    assert "the error page could not be drawn" not in caplog.text


def test_in_debug_mode_the_500_page_shows_the_trace(failing_app: Flask) -> None:
    failing_app.debug = True
    page = failing_app.test_client().get("/fail").get_data(as_text=True)
    assert "Traceback" in page and "secret detail of the failure" in page


def test_a_404_is_friendly(anonymous: Any) -> None:
    response = anonymous.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Nothing here" in page
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])
    # The id to quote is the request's own, not a Python name (it once showed `<function ...>`).
    assert f'<code class="request-id">{response.headers["X-Request-ID"]}</code>' in page
    assert "&lt;function" not in page and "<function" not in page


# ---------------------------------------------------------------- request ids and log lines


def test_each_request_gets_an_id_of_its_own(anonymous: Any) -> None:
    first, second = anonymous.get("/login"), anonymous.get("/login")
    assert HEX_ID.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_the_proxys_request_id_is_kept_when_sane(anonymous: Any) -> None:
    sane = "0f3c2b9a7d8e4c1b9a0f3c2b9a7d8e4c"
    assert anonymous.get("/login", headers={"X-Request-ID": sane}).headers["X-Request-ID"] == sane
    for insane in ("short", "x" * 129, "a b c d e f g h", "abc;rm -rf /;def"):
        replaced = anonymous.get("/login", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert HEX_ID.fullmatch(replaced), insane


def test_one_log_line_per_request_with_its_id_status_time_and_account(
    client: Any, owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="planner.request")
    response = client.get("/?page=2&secret=abc")
    [line] = request_lines(caplog)
    assert line.request_id == response.headers["X-Request-ID"]
    assert re.fullmatch(rf"GET / 200 \d+\.\dms user={owner.id}", line.getMessage())


def test_the_log_line_of_an_anonymous_request_names_nobody(anonymous: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="planner.request")
    anonymous.get("/login")
    [line] = request_lines(caplog)
    assert re.fullmatch(r"GET /login 200 \d+\.\dms user=-", line.getMessage())


def test_tokens_in_paths_stay_out_of_the_log(anonymous: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="planner.request")
    anonymous.get("/reset-password/SECRET-RESET-TOKEN")
    anonymous.get("/invitations/SECRET-INVITE-TOKEN")
    anonymous.get("/join/SECRETCODE")
    messages = [r.getMessage() for r in request_lines(caplog)]
    assert [m.split()[1] for m in messages] == ["/reset-password/<token>", "/invitations/<token>", "/join/<code>"]
    assert "SECRET" not in caplog.text


# ---------------------------------------------------------------- the secret key


def test_a_server_refuses_to_start_with_a_published_secret_key() -> None:
    with pytest.raises(RuntimeError, match="Set the SECRET_KEY environment variable"):
        create_app(Config, SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="dev-only-change-me")


def test_without_secret_key_a_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "secret_key"
    key = instance_secret_key(path)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(path) == key  # the next start, or another worker, reads the same
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


# ---------------------------------------------------------------- PostgreSQL stops and starts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of this test's own, which it may stop and start at will."""

    def __init__(self, base: Path) -> None:
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        self.bin = bindir[-1] if bindir else Path(os.path.dirname(shutil.which("pg_ctl") or "pg_ctl"))
        self.base, self.data, self.port = base, base / "data", _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*owner, *args], check=True, capture_output=True, cwd="/", timeout=60)

    def init(self) -> None:
        self.base.chmod(0o755)
        self.data.mkdir()
        (self.base / "socket").mkdir()
        if os.getuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(self.base / "socket", "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\nfsync = off\n")
            conf.write(f"unix_socket_directories = '{self.base / 'socket'}'\nmax_connections = 20\n")

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def own_cluster() -> Any:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass of `make test` (TEST_DATABASE_URL)")
    import tempfile

    cluster = Cluster(Path(tempfile.mkdtemp(prefix="planner-ops-pg.")))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
        shutil.rmtree(cluster.base, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.server
def test_pages_answer_503_while_postgresql_is_stopped_and_recover_when_it_is_back(
    own_cluster: Cluster, password_hash: str
) -> None:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=own_cluster.url, PROPAGATE_EXCEPTIONS=False)
    reset_schema(app)
    with app.app_context():
        user = User(email="fay@example.org", name="Fay", password_hash=password_hash)
        db.session.add(user)
        db.session.commit()
        user_id = user.get_id()
    web = Web(app.test_client())
    log_in(web.client, user_id)
    web.token()
    try:
        assert web.get("/").status_code == 200
        assert web.get("/healthz").status_code == 200

        own_cluster.stop()
        page = web.get("/")
        assert page.status_code == 503
        assert UNAVAILABLE in page.get_data(as_text=True)
        assert page.headers["Retry-After"] == "60"
        health = web.get("/healthz")
        assert (health.status_code, health.json["database"]) == (503, "unavailable")
        assert web.post("/plans", {"title": "Written while the database was away"}).status_code == 503

        own_cluster.start()  # the same app, no restart: the pool finds its old connections dead
        assert web.get("/healthz").status_code == 200
        assert web.get("/").status_code == 200
        assert web.post("/plans", {"title": "Written once it was back"}).status_code == 302
        with app.app_context():
            assert db.session.scalars(select(Plan.title)).all() == ["Written once it was back"]
            assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
    finally:
        with app.app_context():
            db.engine.dispose()
