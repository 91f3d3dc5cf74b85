"""Shared fixtures: an app on a migrated database, a client that speaks CSRF, and plans.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL is set
(`make test` runs the suite both ways). The schema comes from the migrations, and every test
starts from empty tables.

People: `client` and `web` are logged in as `owner`, who facilitates `example_plan` and owns
every plan they create through the web. A plan a test stores directly has no members: give it
one with `add_member(plan, owner)`. `anonymous` is a `Web` with nobody logged in; `as_user(user)`
gives a `Web` logged in as anyone; `facilitator`, `editor`, `viewer` are members of
`example_plan` in that role, and `outsider` facilitates another plan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from config import TestConfig
from planner import create_app
from planner.accounts.models import Membership, User
from planner.extensions import db
from planner.plans import cached

PASSWORD = "a long test password"  # every test account's


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'planner-test.sqlite'}"


def reset_schema(app: Flask) -> None:
    """Drop everything and build the schema from the migrations."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def _forget_the_last_user() -> None:
    """A request made while a test holds an app context (`ctx`) runs in that context and sees
    its `g`, where Flask-Login keeps the user, Flask-WTF the session's CSRF token and the access
    check the plan: forget them, as a fresh context would (two clients in one test have two
    sessions)."""
    for name in ("_login_user", "csrf_token", "plan", "plan_role", "membership"):
        g.pop(name, None)


@pytest.fixture(scope="session")
def app(database_url: str) -> Any:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_the_last_user)
    reset_schema(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Any:
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    cached.clear()  # what was worked out of one test's plans must not meet the next test's
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _a_real_pdf_is_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test that draws a real PDF in this process (WeasyPrint: a second or more each) is marked
    `pdf`, so that `make test-fast` leaves it out: one that is not fails, saying so. (Browser
    tests are left out of the fast lane already.)"""
    if request.node.get_closest_marker("pdf") or request.node.get_closest_marker("browser"):
        yield
        return
    from planner.documents import render

    drawn: list[int] = []
    real_write_pdf = render._write_pdf

    def counted_write_pdf(*args: Any, **kwargs: Any) -> bytes:
        drawn.append(1)
        return real_write_pdf(*args, **kwargs)

    monkeypatch.setattr(render, "_write_pdf", counted_write_pdf)
    yield
    assert not drawn, "this test draws a real PDF: mark it @pytest.mark.pdf (`make test-fast` leaves those out)"


@pytest.fixture
def ctx(app: Flask) -> Any:
    """An app context, for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.remove()


def assert_table_covers(routes: Iterable[Any], table: dict[Any, Any], where: str) -> None:
    """A test's table of routes (RECIPES, NEEDS) names every route the app has, and no other:
    a new route fails the test until someone says how to test it. `where` names the table."""
    routes, listed = set(routes), set(table)
    missing = sorted(routes - listed, key=str)
    assert not missing, f"routes missing from {where}: {missing}"
    stale = sorted(listed - routes, key=str)
    assert not stale, f"{where} names routes the app no longer has: {stale}"


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Web:
    """A test client that fills in the CSRF token the way a browser's form would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        """The CSRF token of this client's session (a new session, after logging in, has a new one)."""
        if self._token is None:
            page = self.client.get("/").get_data(as_text=True)
            match = CSRF_META.search(page)
            assert match, "every page carries the CSRF token in a meta tag"
            self._token = match.group(1)
        return self._token

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The hash of PASSWORD, made once: scrypt takes a noticeable moment on purpose."""
    return generate_password_hash(PASSWORD)


@pytest.fixture
def add_user(app: Flask, password_hash: str) -> Any:
    """Make an account (password PASSWORD); returns it detached, its columns loaded."""

    def add(email: str, name: str | None = None) -> User:
        with app.app_context():
            user = User(email=email.lower(), name=name or email.split("@")[0].title(), password_hash=password_hash)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            db.session.remove()
        return user

    return add


@pytest.fixture
def add_member(app: Flask) -> Any:
    """Give `user` a role in `plan` (a plan or its id)."""

    def add(plan: Any, user: User, role: str = "facilitator") -> None:
        plan_id = plan if isinstance(plan, int) else plan.id
        with app.app_context():
            db.session.add(Membership(plan_id=plan_id, user_id=user.id, role=role))
            db.session.commit()
            db.session.remove()

    return add


def _login(client: Web | FlaskClient, user: User) -> None:
    """Log `client` in as `user`, as the log-in page would leave the session (without the
    page's deliberately slow password check; tests/test_accounts.py goes through the page)."""
    test_client = client.client if isinstance(client, Web) else client
    with test_client.application.app_context():
        session_id = user.get_id()  # a new session on the server (planner/accounts/sessions.py)
    with test_client.session_transaction() as session:
        session.clear()
        session["_user_id"] = session_id
        session["_fresh"] = True
    if isinstance(client, Web):
        client._token = None


@pytest.fixture
def login() -> Any:
    return _login


@pytest.fixture
def owner(add_user: Any) -> User:
    """The person `client` and `web` are logged in as."""
    return add_user("fay@example.org", "Fay Facilitator")


@pytest.fixture
def client(app: Flask, owner: User) -> FlaskClient:
    client = app.test_client()
    _login(client, owner)
    return client


@pytest.fixture
def web(client: FlaskClient) -> Web:
    return Web(client)


@pytest.fixture
def anonymous(app: Flask) -> Web:
    """A browser with nobody logged in."""
    return Web(app.test_client())


@pytest.fixture
def as_user(app: Flask) -> Any:
    """A new browser, logged in as `user`."""

    def make(user: User) -> Web:
        web = Web(app.test_client())
        _login(web, user)
        return web

    return make


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def example_doc() -> dict[str, Any]:
    """The example plan's whole interchange document (a fresh copy)."""
    from planner.interchange.example import example_document

    return example_document()


@pytest.fixture
def example_plan(ctx: Flask, example_doc: dict[str, Any], owner: User, add_member: Any) -> Any:
    """The example plan, stored in the database, with `owner` as its facilitator."""
    from planner.plans import store

    plan = store.create_from_doc(example_doc["plan"])
    add_member(plan, owner, "facilitator")
    return plan


@pytest.fixture
def facilitator(owner: User, example_plan: Any) -> User:
    return owner


@pytest.fixture
def editor(add_user: Any, add_member: Any, example_plan: Any) -> User:
    user = add_user("eddie@example.org", "Eddie Editor")
    add_member(example_plan, user, "editor")
    return user


@pytest.fixture
def viewer(add_user: Any, add_member: Any, example_plan: Any) -> User:
    user = add_user("vera@example.org", "Vera Viewer")
    add_member(example_plan, user, "viewer")
    return user


@pytest.fixture
def outsider(add_user: Any, add_member: Any, example_plan: Any) -> User:
    """Someone with an account and a plan of their own, but no place in `example_plan`."""
    from planner.plans import store

    user = add_user("otto@example.org", "Otto Outsider")
    add_member(store.create_plan("Otto's own plan"), user, "facilitator")
    return user


@pytest.fixture
def ana(add_user: Any) -> User:
    """With `ben`: two accounts, for tests of two people at work on one plan (no plan yet)."""
    return add_user("ana@example.org", "Ana Alvarez")


@pytest.fixture
def ben(add_user: Any) -> User:
    return add_user("ben@example.org", "Ben Brown")


@pytest.fixture
def failing_app(database_url: str, app: Flask) -> Iterator[Flask]:
    """An app like production's (exceptions become pages), with a route `/fail` that fails."""
    failing = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, PROPAGATE_EXCEPTIONS=False)

    @failing.get("/fail")
    def fail() -> str:
        raise RuntimeError("secret detail of the failure")

    yield failing
    with failing.app_context():  # its connections close now, not whenever they are collected
        db.engine.dispose()


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL WeasyPrint asks the fetcher for, whether it is served or refused."""
    from planner.documents.fetcher import AssetFetcher

    asked: list[str] = []
    real_fetch = AssetFetcher.fetch

    def spy(self: AssetFetcher, url: str, headers: Any = None) -> Any:
        asked.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(AssetFetcher, "fetch", spy)
    return asked
