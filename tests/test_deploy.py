"""docs/deploy.md, run on this machine: a fresh PostgreSQL database, `flask db upgrade`,
`flask user create`, gunicorn with 2 workers and the environment of deploy/planner.env.example,
nginx from deploy/nginx.conf (HTTPS with a throwaway certificate), then a smoke run through
nginx as a browser would make it.

Runs in the PostgreSQL pass of `make test` (TEST_DATABASE_URL), in the test cluster.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import Config

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
EMAIL, PASSWORD = "ops@example.org", "a long deploy test password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[Any], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on {port} after {timeout} s:\n{log.read_text()[-3000:]}")


def example_environment() -> dict[str, str]:
    """deploy/planner.env.example as systemd's EnvironmentFile reads it (KEY=value, quotes off)."""
    env = {}
    for line in (ROOT / "deploy" / "planner.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env


# ---------------------------------------------------------------- nginx.conf, rendered


def render_nginx_conf(
    tmp: Path, *, http_port: int, https_port: int, gunicorn_port: int, streams_port: int | None = None
) -> str:
    """deploy/nginx.conf with this machine's ports and paths, every other line as written. The
    stream server's port is `streams_port` (by default the app's own: no stream server)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "worker_processes auto;": "worker_processes 1;\ndaemon off;" + ("\nuser root;" if os.getuid() == 0 else ""),
        "pid /run/nginx-planner.pid;": f"pid {tmp}/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;": f"error_log {tmp}/nginx-error.log warn;",
        "access_log /var/log/nginx/planner-access.log planner;": (
            f"access_log {tmp}/nginx-access.log planner;\n"
            + "".join(
                f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
        ),
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{streams_port or gunicorn_port};",
        "server 127.0.0.1:8000": f"server 127.0.0.1:{gunicorn_port}",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "server_name planner.example.org;": "server_name localhost;",
        "/etc/letsencrypt/live/planner.example.org/fullchain.pem": str(tmp / "cert.pem"),
        "/etc/letsencrypt/live/planner.example.org/privkey.pem": str(tmp / "key.pem"),
        "alias /srv/planner/static/;": f"alias {ROOT}/static/;",
    }
    for old, new in replacements.items():
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}: update this test with it"
        conf = conf.replace(old, new)
    return conf


def test_every_gthread_worker_may_hold_at_least_one_stream() -> None:
    """0 would mean no ceiling at all (planner/workshop/live.py)."""
    stream_ceiling = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["stream_ceiling"]
    assert [stream_ceiling(n) for n in (1, 2, 4, 8, 32, 100)] == [1, 1, 3, 6, 24, 90]


def test_nginx_accepts_requests_as_large_as_the_app_does() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    [size] = re.findall(r"client_max_body_size (\d+)k;", conf)
    assert int(size) * 1024 == Config.MAX_CONTENT_LENGTH


def test_nginx_limits_connections_per_address_to_what_a_room_behind_one_router_needs() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    [(key, zone)] = re.findall(r"^\s*limit_conn_zone (\S+) zone=(\w+):\d+m;", conf, re.M)
    assert key == "$binary_remote_addr"
    [(used, number)] = re.findall(r"^\s*limit_conn (\w+) (\d+);", conf, re.M)
    assert used == zone
    # 1,000 phones on a venue's NAT, each with its stream and now and then a request, get in;
    # one address cannot hold thousands of connections.
    assert 1_100 <= int(number) <= 2_000
    # And nginx has the connections for such a room: two per stream (the browser's, gunicorn's).
    [per_worker] = re.findall(r"worker_connections (\d+);", conf)
    assert int(per_worker) >= 2 * int(number)
    assert "limit_conn_status 429;" in conf


class HoldingUpstream:
    """Stands in for gunicorn: answers /healthz at once, and holds every event stream open
    without a word until the test ends."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.streams_seen = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while request := conn.recv(65536):
                if b"/events " in request.split(b"\r\n", 1)[0]:
                    self.streams_seen += 1
                    self.held.append(conn)
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


@pytest.mark.server
def test_nginx_refuses_one_address_more_connections_than_the_limit(tmp_path: Path) -> None:
    """deploy/nginx.conf as it is, its limit lowered from 1,500 to 3 so that a test can reach it."""
    if not shutil.which("nginx"):
        pytest.skip("nginx is not installed")
    upstream = HoldingUpstream()
    http_port, https_port = free_port(), free_port()
    conf = render_nginx_conf(tmp_path, http_port=http_port, https_port=https_port, gunicorn_port=upstream.port)
    [limit] = re.findall(r"limit_conn planner_per_address \d+;", conf)
    (tmp_path / "nginx.conf").write_text(conf.replace(limit, "limit_conn planner_per_address 3;"))
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    log = tmp_path / "nginx-error.log"
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    context = ssl.create_default_context(cafile=str(cert))
    opened: list[http.client.HTTPSConnection] = []

    def stream(source: str) -> http.client.HTTPSConnection:
        conn = http.client.HTTPSConnection(
            "localhost", https_port, timeout=10, context=context, source_address=(source, 0)
        )
        conn.request("GET", "/workshop/ABCD2345/events")
        opened.append(conn)
        return conn

    try:
        wait_for_port(https_port, nginx, log)
        for _ in range(3):
            stream("127.0.0.1")
        deadline = time.monotonic() + 10
        while upstream.streams_seen < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upstream.streams_seen == 3
        # The fourth from the same address is refused at once; the upstream never sees it.
        refused = stream("127.0.0.1").getresponse()
        assert refused.status == 429
        assert upstream.streams_seen == 3
        # Another address still gets through, and so do plain pages once the streams end.
        stream("127.0.0.2")
        deadline = time.monotonic() + 10
        while upstream.streams_seen < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upstream.streams_seen == 4
    finally:
        for conn in opened:
            conn.close()
        upstream.close()
        nginx.send_signal(signal.SIGTERM)
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()


# ---------------------------------------------------------------- a browser, through nginx


class Browser:
    """urllib with cookies and the certificate of this test's nginx; sends a Referer as a
    browser does (Flask-WTF checks it on HTTPS)."""

    def __init__(self, base: str, cafile: Path) -> None:
        self.base, self.cafile = base, cafile
        context = ssl.create_default_context(cafile=str(cafile))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )
        self.last = base + "/"

    def request(self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.last, **(headers or {})})
        try:
            response = self.opener.open(req, timeout=60)
        except urllib.error.HTTPError as exc:
            response = exc
        response.body = response.read()
        response.text = response.body.decode("utf-8", "replace")
        self.last = response.url
        return response

    def stream(self, path: str) -> str:
        """The first event of an event stream (up to its blank line), then the connection closed."""
        req = urllib.request.Request(self.base + path, headers={"Referer": self.last, "Accept": "text/event-stream"})
        with self.opener.open(req, timeout=20) as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
            lines = []
            while (line := response.readline().decode()) not in ("\n", ""):
                lines.append(line)
        return "".join(lines)

    def csrf_token(self, page: Any) -> str:
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)


# ---------------------------------------------------------------- the recipe


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the recipe needs PostgreSQL: it runs in the PostgreSQL pass of `make test` (TEST_DATABASE_URL)")
    admin_url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"planner_deploy_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    processes: dict[str, subprocess.Popen[Any]] = {}
    try:
        gunicorn_port, streams_port, http_port, https_port = free_port(), free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "TEST_", "FLASK_"))}
        env.update({k: v for k, v in example_environment().items() if not k.startswith("MAIL_")})
        database_url = admin_url.set(drivername="postgresql", database=name, query={"connect_timeout": "5"})
        env.update(
            SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=database_url.render_as_string(hide_password=False),
            BASE_URL=f"https://localhost:{https_port}",
            PDF_CACHE_DIR=str(tmp_path / "pdf-cache"),
            PLANNER_BIND=f"127.0.0.1:{gunicorn_port}",
            PLANNER_STREAMS_BIND=f"127.0.0.1:{streams_port}",
            PLANNER_THREADS="4",
        )
        assert env["BEHIND_PROXY"] == "1" and env["SESSION_COOKIE_SECURE"] == "1"

        # The recipe's order, with what does not depend on the previous step started at once:
        # gunicorn and `user create` both need the schema, not each other; nginx needs nothing.
        flask = [str(BIN / "flask"), "--app", "app"]
        migrate = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert migrate.returncode == 0, migrate.stderr
        create = subprocess.Popen(
            [*flask, "user", "create", EMAIL, "--name", "Olu Operator", "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes["user create"] = create
        gunicorn_log = tmp_path / "gunicorn.log"
        with gunicorn_log.open("w") as out:
            gunicorn = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers", "2", "app:app"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes["gunicorn"] = gunicorn
        streams_log = tmp_path / "streams.log"
        with streams_log.open("w") as out:
            processes["streams"] = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.streams.conf.py", "app:streams"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
                *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"),
                *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
            ],
            check=True,
            capture_output=True,
        )
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            render_nginx_conf(
                tmp_path,
                http_port=http_port,
                https_port=https_port,
                gunicorn_port=gunicorn_port,
                streams_port=streams_port,
            )
        )
        nginx_log = tmp_path / "nginx-error.log"
        nginx_log.touch()
        nginx = subprocess.Popen(
            ["nginx", "-p", str(tmp_path), "-c", str(conf), "-e", str(nginx_log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        processes["nginx"] = nginx

        output, _ = create.communicate(timeout=60)
        assert create.returncode == 0, output
        wait_for_port(https_port, nginx, nginx_log)
        wait_for_port(gunicorn_port, gunicorn, gunicorn_log)
        wait_for_port(streams_port, processes["streams"], streams_log)
        yield {
            "browser": Browser(f"https://localhost:{https_port}", tmp_path / "cert.pem"),
            "http_port": http_port,
            "gunicorn_log": gunicorn_log,
            "streams_log": streams_log,
            "streams_port": streams_port,
            "nginx_access_log": tmp_path / "nginx-access.log",
        }
    finally:
        # nginx: SIGTERM is its fast shutdown. gunicorn: SIGINT is (SIGTERM would wait for
        # the workers' keep-alive connections).
        quick = {"nginx": signal.SIGTERM, "user create": signal.SIGTERM}
        quick |= {"gunicorn": signal.SIGINT, "streams": signal.SIGINT}
        for name, process in processes.items():
            if process.poll() is None:
                process.send_signal(quick[name])
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(tmp_path / "pdf-cache", ignore_errors=True)


def request_log_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "planner.request" in line]


@pytest.mark.server
@pytest.mark.postgres
def test_the_recipe_serves_a_whole_session_through_nginx(deployment: dict[str, Any]) -> None:
    web: Browser = deployment["browser"]

    # The load balancer's check, with nginx's request id passed through to the app and back.
    health = web.request("/healthz")
    assert (health.status, json.loads(health.text)) == (200, {"status": "ok", "database": "ok"})
    assert re.fullmatch(r"[0-9a-f]{32}", health.headers["X-Request-ID"])
    assert "Set-Cookie" not in health.headers
    tagged = web.request("/healthz", headers={"X-Request-ID": "smoke-test-0001"})
    assert tagged.headers["X-Request-ID"] == "smoke-test-0001"

    # Plain HTTP is sent to HTTPS.
    with pytest.raises(urllib.error.HTTPError) as redirect:
        no_redirects = urllib.request.build_opener(NoRedirect)
        no_redirects.open(f"http://localhost:{deployment['http_port']}/plans", timeout=10)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"].startswith("https://localhost")

    # Log in with the account `flask user create` made; the session cookie is Secure.
    login = web.request("/login")
    home = web.request("/login", {"email": EMAIL, "password": PASSWORD, "csrf_token": web.csrf_token(login)})
    assert home.status == 200 and home.url.endswith("/"), home.text[:500]
    assert "Olu Operator" in home.text

    # A new plan, a wizard step, an item.
    step = web.request("/plans", {"title": "Deployed plan", "csrf_token": web.csrf_token(home)})
    assert step.status == 200, step.text[:500]
    plan_id = int(re.search(r"/plans/(\d+)/steps/", step.url).group(1))
    assert "Deployed plan" in step.text
    goals = web.request(
        f"/plans/{plan_id}/items/goal/new",
        {"new-goal-statement": "Hear from 30 neighbours", "csrf_token": web.csrf_token(step)},
    )
    assert goals.status == 200 and "Hear from 30 neighbours" in goals.text

    # The JSON and the PDF.
    exported = web.request(f"/plans/{plan_id}/export.json")
    assert json.loads(exported.body)["plan"]["goals"][0]["statement"] == "Hear from 30 neighbours"
    pdf = web.request(f"/plans/{plan_id}/document.pdf")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")

    # A workshop: its console from the app's workers, its live stream from the stream server.
    sessions = web.request(f"/plans/{plan_id}/workshops")
    console = web.request(f"/plans/{plan_id}/workshops", {"step": "audiences", "csrf_token": web.csrf_token(sessions)})
    assert console.status == 200 and "/console" in console.url, console.text[:500]
    code = console.url.rsplit("/", 2)[-2]
    first_event = web.stream(f"/workshop/{code}/events?as=facilitator")
    assert first_event.startswith("retry: 1000\nevent: hello"), first_event
    served_by_streams = request_log_lines(deployment["streams_log"])
    assert any("GET /workshop/<code>/events 200" in line for line in served_by_streams), served_by_streams
    assert not any("/events" in line for line in request_log_lines(deployment["gunicorn_log"]))
    # The stream server carries the streams and nothing else, even asked directly.
    direct = urllib.request.urlopen(f"http://127.0.0.1:{deployment['streams_port']}/healthz", timeout=10)
    assert json.loads(direct.read()) == {"status": "ok", "database": "ok"}
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{deployment['streams_port']}/plans/{plan_id}", timeout=10)
    assert refused.value.code == 404 and b"live streams only" in refused.value.read()

    # Static files come from nginx itself.
    css = web.request("/static/app.css")
    assert css.status == 200 and css.headers["Content-Type"] == "text/css"

    # One log line per request, with its request id and the account; no second access line.
    lines = request_log_lines(deployment["gunicorn_log"])
    [tagged_line] = [line for line in lines if "smoke-test-0001" in line]
    assert "GET /healthz 200" in tagged_line
    assert any(f"POST /plans/{plan_id}/items/goal/new 302" in line and "user=1" in line for line in lines)
    assert not any("/static/app.css" in line for line in lines)
    assert "request_id=smoke-test-0001" in deployment["nginx_access_log"].read_text()

    # Both workers answer: browsers' connections land on either.
    pids = worker_pids(deployment["gunicorn_log"])
    deadline = time.monotonic() + 15
    while len(pids) < 2 and time.monotonic() < deadline:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: Browser(web.base, web.cafile).request("/healthz"), range(16)))
        pids = worker_pids(deployment["gunicorn_log"])
    assert len(pids) == 2, pids


def worker_pids(log: Path) -> set[str]:
    return {re.search(r"\] \[(\d+)\] \[INFO\] planner\.request", line).group(1) for line in request_log_lines(log)}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
