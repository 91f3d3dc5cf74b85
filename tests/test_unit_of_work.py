"""One unit of work per request (planner/unit.py): services flush, the request commits once,
and a request that is refused or fails keeps nothing; caches hear of a plan's change or deletion
from a signal sent after the commit (planner/plans/signals.py); SQLite's set-up is the app's
engine's alone (planner/sqlite.py).

Some tests use an app of their own, on the same database, with routes that write and then
refuse or fail: the real app has no view that does that on purpose, which is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text

from config import TestConfig
from planner import create_app, unit
from planner.accounts.models import User
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.models import ITEM_MODELS
from planner.plans import store
from planner.plans.signals import plan_changed, plan_deleted
from planner.sqlite import BUSY_TIMEOUT_MS
from tests.conftest import PASSWORD, Web

GOAL = ENTITY_BY_NAME["goal"]


def _goals(app: Flask, plan_id: int) -> list[str]:
    with app.app_context():
        model = ITEM_MODELS["goal"]
        titles = list(db.session.scalars(select(model.statement).where(model.plan_id == plan_id)))
        db.session.remove()
    return titles


@pytest.fixture
def probe(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app of its own on the test database, with views that add a goal and then answer
    as their name says. (The session's `app` cannot take new routes once it has served.)"""
    probe = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=False)

    def add(plan_id: int) -> None:
        store.add_item(store.get_plan(plan_id), GOAL, {"statement": "Written, then?"})

    @probe.post("/probe/<int:plan_id>/kept")
    def kept(plan_id: int) -> tuple[str, int]:
        add(plan_id)
        return "saved", 200

    @probe.post("/probe/<int:plan_id>/refused")
    def refused(plan_id: int) -> tuple[str, int]:
        add(plan_id)
        return "the rest of the form was refused", 422

    @probe.post("/probe/<int:plan_id>/conflict")
    def conflict(plan_id: int) -> tuple[str, int]:
        add(plan_id)
        return "someone else saved first", 409

    @probe.post("/probe/<int:plan_id>/fails")
    def fails(plan_id: int) -> str:
        add(plan_id)
        raise RuntimeError("something went wrong after the write")

    yield probe
    with probe.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def probe_plan(probe: Flask) -> int:
    with probe.app_context():
        plan_id = store.create_plan("Harbour plan").id
        db.session.remove()
    return plan_id


# ---------------------------------------------------------------- a request keeps all or nothing


@pytest.mark.parametrize(("route", "status"), [("refused", 422), ("conflict", 409)])
def test_a_request_refused_after_a_write_keeps_nothing(probe: Flask, probe_plan: int, route: str, status: int) -> None:
    assert probe.test_client().post(f"/probe/{probe_plan}/{route}").status_code == status
    assert _goals(probe, probe_plan) == []


def test_a_request_that_fails_after_a_write_keeps_nothing(probe: Flask, probe_plan: int) -> None:
    with pytest.raises(RuntimeError):  # TESTING: the error reaches the test instead of a 500 page
        probe.test_client().post(f"/probe/{probe_plan}/fails")
    assert _goals(probe, probe_plan) == []


def test_a_request_that_succeeds_keeps_its_write(probe: Flask, probe_plan: int) -> None:
    assert probe.test_client().post(f"/probe/{probe_plan}/kept").status_code == 200
    assert _goals(probe, probe_plan) == ["Written, then?"]


def _commits(app: Flask) -> Any:
    """Count the COMMITs sent on the app's engine, any connection."""
    with app.app_context():
        engine = db.engine
    seen: list[int] = []

    def count(_conn: Any) -> None:
        seen.append(1)

    event.listen(engine, "commit", count)
    return engine, count, seen


def test_an_item_save_is_one_commit(app: Flask, web: Web, example_plan: Any) -> None:
    key = "g1"
    values = store.load_doc(example_plan)["goals"][0]
    assert values["key"] == key
    form = {f"goal-{key}-{f.name}": values.get(f.name) or "" for f in GOAL.fields if not f.is_list}
    form[f"goal-{key}-statement"] = "Grow the repair café"
    web.token()  # the page that gives the CSRF token is not the save
    engine, count, seen = _commits(app)
    try:
        response = web.post(f"/plans/{example_plan.id}/items/goal/{key}", data=form)
    finally:
        event.remove(engine, "commit", count)
    assert response.status_code == 302
    assert len(seen) == 1


def test_changing_a_password_and_the_new_session_are_one_commit(app: Flask, web: Web, owner: User) -> None:
    """The new password, the end of every other session and this device's new session: kept
    together, in one commit of the request's transaction, or not at all. (The rate limits
    and the sweep of others' expired sessions commit on connections of their own.)"""
    web.token()
    seen: list[int] = []

    def count(session: Any) -> None:
        if not session.in_nested_transaction():
            seen.append(1)

    event.listen(db.session, "after_commit", count)
    try:
        new = "another long password"
        response = web.post("/account", data={"current": PASSWORD, "password": new, "confirm": new})
    finally:
        event.remove(db.session, "after_commit", count)
    assert response.status_code == 302
    assert len(seen) == 1


# ---------------------------------------------------------------- the signals


@pytest.fixture
def heard() -> Iterator[list[tuple[str, Any, int]]]:
    got: list[tuple[str, Any, int]] = []

    def changed(sender: Any, plan_id: int) -> None:
        got.append(("changed", sender, plan_id))

    def deleted(sender: Any, plan_id: int) -> None:
        got.append(("deleted", sender, plan_id))

    with plan_changed.connected_to(changed), plan_deleted.connected_to(deleted):
        yield got


def test_a_change_is_signalled_once_it_is_committed_and_never_when_rolled_back(
    ctx: Flask, heard: list[tuple[str, Any, int]]
) -> None:
    plan = store.create_plan("Harbour plan")  # outside a unit of work: committed at once
    assert heard == [("changed", ctx, plan.id)]
    heard.clear()
    with unit.unit_of_work():
        store.update_plan_fields(plan, {"title": "Estuary plan"})
        store.add_item(plan, GOAL, {"statement": "Grow the repair café"})
        assert heard == []  # written, not yet committed
    assert heard == [("changed", ctx, plan.id)]  # once for the unit, after its commit
    heard.clear()
    with pytest.raises(RuntimeError), unit.unit_of_work():
        store.update_plan_fields(plan, {"title": "Never kept"})
        raise RuntimeError("the rest failed")
    assert heard == []
    assert store.get_plan(plan.id).title == "Estuary plan"


def test_a_refused_request_signals_nothing(probe: Flask, probe_plan: int, heard: list[tuple[str, Any, int]]) -> None:
    probe.test_client().post(f"/probe/{probe_plan}/refused")
    assert heard == []
    probe.test_client().post(f"/probe/{probe_plan}/kept")
    assert heard == [("changed", probe, probe_plan)]


def test_a_deleted_plan_is_signalled(ctx: Flask, heard: list[tuple[str, Any, int]]) -> None:
    plan = store.create_plan("Harbour plan")
    heard.clear()
    store.delete_plan(plan)
    assert heard == [("deleted", ctx, plan.id)]


def test_a_failing_after_commit_task_neither_undoes_the_commit_nor_silences_the_signals(
    probe: Flask, probe_plan: int, heard: list[tuple[str, Any, int]], caplog: pytest.LogCaptureFixture
) -> None:
    """A sweep run after the commit on a connection of its own can time out: what the person
    sent is kept all the same, they are not shown an error page, and the caches still hear."""

    @probe.post("/probe/<int:plan_id>/kept-then-sweep-fails")
    def kept_then_sweep_fails(plan_id: int) -> tuple[str, int]:
        store.add_item(store.get_plan(plan_id), GOAL, {"statement": "Written, then?"})

        def sweep() -> None:
            raise RuntimeError("database is locked")

        unit.after_commit(sweep)
        return "saved", 200

    response = probe.test_client().post(f"/probe/{probe_plan}/kept-then-sweep-fails")
    assert response.status_code == 200
    assert _goals(probe, probe_plan) == ["Written, then?"]
    assert heard == [("changed", probe, probe_plan)]
    assert "the commit stands" in caplog.text
    # A command's unit of work, too: it ends as a success, with its writes kept.
    with probe.app_context():
        with unit.unit_of_work():
            store.add_item(store.get_plan(probe_plan), GOAL, {"statement": "From a command"})
            unit.after_commit(lambda: 1 / 0)
        db.session.remove()
    assert sorted(_goals(probe, probe_plan)) == ["From a command", "Written, then?"]


def test_a_deleted_plans_cached_documents_are_deleted_with_it(
    app: Flask, ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever deletes the plan (a page, a command, a script): its files go when it goes."""
    from datetime import date

    from planner.documents.cache import document_key, pdf_cache

    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "pdf-cache"))
    plan, other = store.create_plan("Harbour plan"), store.create_plan("Estuary plan")
    cache = pdf_cache(app)
    for each in (plan, other):
        key = document_key(each, date.today())
        cache.put(key, b"%PDF-1.7\nstand-in\n%%EOF\n").close()
        cache.put(key, b"# stand-in\n", ".md").close()
    before = sorted(p.name for p in (tmp_path / "pdf-cache").iterdir())
    store.delete_plan(plan)
    left = sorted(p.name for p in (tmp_path / "pdf-cache").iterdir())
    assert [name for name in before if name.startswith(f"{plan.id}-")]
    assert not [name for name in left if name.startswith(f"{plan.id}-")]
    assert [name for name in left if name.startswith(f"{other.id}-")] == [
        name for name in before if name.startswith(f"{other.id}-")
    ]


# ---------------------------------------------------------------- SQLite's set-up is the app's own


def test_another_sqlite_engine_in_the_process_keeps_sqlites_defaults(app: Flask, tmp_path: Path) -> None:
    other = create_engine(f"sqlite:///{tmp_path / 'someone-elses.sqlite'}")
    try:
        with other.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 0
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() != BUSY_TIMEOUT_MS  # pysqlite's own
    finally:
        other.dispose()


def test_the_apps_sqlite_engine_has_planners_set_up(ctx: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's set-up: the app runs on PostgreSQL here")
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


# ---------------------------------------------------------------- a GET writes nothing it need not

_WRITE = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _writes_during(app: Flask, get: Any) -> list[str]:
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def look(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(_WRITE):
            seen.append(statement.split("\n")[0][:80])

    event.listen(engine, "before_cursor_execute", look)
    try:
        get()
    finally:
        event.remove(engine, "before_cursor_execute", look)
    return seen


def test_reading_a_plan_writes_nothing_but_the_visit_and_that_once_a_minute(
    app: Flask, web: Web, example_plan: Any
) -> None:
    plan_id = example_plan.id
    web.get("/")  # the log-in session is fresh: its expiry moves on only every few minutes
    step = f"/plans/{plan_id}/steps/audiences"
    first = _writes_during(app, lambda: web.get(step))
    assert first and all("visit" in s.lower() or "memberships" in s.lower() for s in first), first
    pages = [
        step,
        "/",
        f"/plans/{plan_id}/history",
        f"/plans/{plan_id}/document",
        f"/plans/{plan_id}/members",
        f"/plans/{plan_id}/export.json",
        f"/plans/{plan_id}/delete",
    ]
    for page in pages:
        assert _writes_during(app, lambda page=page: web.get(page).close()) == [], page
