"""Shared fixtures: an app on a migrated database, a client that speaks CSRF, and plans.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL is set
(`make test` runs the suite both ways). The schema comes from the migrations, and every test
starts from empty tables.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestConfig
from planner import create_app
from planner.extensions import db


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


@pytest.fixture(scope="session")
def app(database_url: str) -> Any:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
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
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def ctx(app: Flask) -> Any:
    """An app context, for tests that call services directly."""
    with app.app_context():
        yield app
        db.session.remove()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Web:
    """A test client that fills in the CSRF token the way a browser's form would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
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


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def web(client: FlaskClient) -> Web:
    return Web(client)


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def example_doc() -> dict[str, Any]:
    """The example plan's whole interchange document (a fresh copy)."""
    from planner.interchange.example import example_document

    return example_document()


@pytest.fixture
def example_plan(ctx: Flask, example_doc: dict[str, Any]) -> Any:
    """The example plan, stored in the database."""
    from planner.plans import store

    return store.create_from_doc(example_doc["plan"])
