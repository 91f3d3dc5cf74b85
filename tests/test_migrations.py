"""The migrations are the schema's history, and they agree with the models.

Each test builds its own empty database, on the same kind of server as the rest of the suite
(a SQLite file, or a scratch database next to TEST_DATABASE_URL's), so that migrating up and
down never disturbs the tables the other tests share.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestConfig
from planner import create_app
from planner.extensions import db

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of the suite's kind, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    name = f"planner_migrations_{uuid.uuid4().hex[:12]}"
    # CREATE DATABASE cannot run inside a transaction.
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def empty_app(empty_database_url: str) -> Iterator[Flask]:
    """An app bound to the empty database, inside an app context."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_diff() -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_builds_exactly_the_models_schema(empty_app: Flask) -> None:
    assert table_names() == set()

    upgrade()

    assert set(db.metadata.tables) <= table_names()
    assert schema_diff() == []


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(empty_app: Flask) -> None:
    upgrade()

    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}

    upgrade()
    assert schema_diff() == []


def test_the_suites_database_matches_the_models(app: Flask) -> None:
    """The shared test database (built by conftest from the migrations) has no drift either."""
    with app.app_context():
        assert schema_diff() == []


def _scripts() -> ScriptDirectory:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_history_is_one_line() -> None:
    """Two heads would mean two migrations written in parallel and never reconciled."""
    assert len(_scripts().get_heads()) == 1


def test_migration_files_are_date_prefixed() -> None:
    names = [path.name for path in (MIGRATIONS / "versions").glob("*.py")]
    assert names
    assert [name for name in names if not re.match(r"\d{8}_[0-9a-f]+_\w+\.py$", name)] == []


def test_the_app_never_creates_tables_outside_the_migrations() -> None:
    sources = [ROOT / "app.py", ROOT / "config.py", *(ROOT / "planner").rglob("*.py")]
    assert [str(path.relative_to(ROOT)) for path in sources if "create_all(" in path.read_text()] == []
