"""A page's number of SQL queries does not grow with the size of the plan.

Two plans are generated from the domain declaration, one with 2 items of every kind and one
with 40, every field filled and every reference valid. Each page that shows a plan is
fetched for both, counting the statements sent to the database: the counts must be equal.
A page that loads items one by one (an N+1 query) fails here with the statements listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from planner.domain import ENTITIES, STEPS
from planner.extensions import db
from planner.plans import store
from tests.plan_factory import generated_plan, item_key

FEW, MANY = 2, 40


@contextmanager
def counting_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _pages(app: Flask, plan_id: int) -> dict[str, str]:
    """The pages that show a plan, by name. Pages whose route does not exist are left out."""
    pages = {"home": "/"}
    pages.update({f"step {s.number} ({s.slug})": f"/plans/{plan_id}/steps/{s.slug}" for s in STEPS})
    optional = {
        "document": ("documents.document", f"/plans/{plan_id}/document"),
        "JSON export": ("interchange.export_json", f"/plans/{plan_id}/export.json"),
        "delete plan": ("plans.delete", f"/plans/{plan_id}/delete"),
        "delete goal": ("wizard.delete_item", f"/plans/{plan_id}/items/goal/{item_key('goal', 1)}/delete"),
        "delete person": ("wizard.delete_item", f"/plans/{plan_id}/items/person/{item_key('person', 1)}/delete"),
    }
    pages.update({name: url for name, (endpoint, url) in optional.items() if endpoint in app.view_functions})
    return pages


def _count(client: FlaskClient, engine: Engine, url: str) -> list[str]:
    with counting_queries(engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return statements


@pytest.fixture
def plans(ctx: Flask, owner: Any, add_member: Any) -> dict[int, int]:
    """The ids of a small and a large generated plan, by size, both `owner`'s."""
    ids = {n: store.create_from_doc(generated_plan(n)).id for n in (FEW, MANY)}
    db.session.remove()
    for plan_id in ids.values():
        add_member(plan_id, owner)
    return ids


def test_generated_plans_fill_every_kind(ctx: Flask, plans: dict[int, int]) -> None:
    for n, plan_id in plans.items():
        doc = store.load_doc(store.get_plan(plan_id))
        assert {e.collection: len(doc[e.collection]) for e in ENTITIES} == {e.collection: n for e in ENTITIES}


def test_no_page_makes_more_queries_for_a_bigger_plan(app: Flask, client: FlaskClient, plans: dict[int, int]) -> None:
    with app.app_context():
        engine = db.engine
    client.get("/")  # warm up: the first request may do one-off work
    grew = {}
    for (name, small_url), big_url in zip(
        _pages(app, plans[FEW]).items(), _pages(app, plans[MANY]).values(), strict=True
    ):
        small = _count(client, engine, small_url)
        big = _count(client, engine, big_url)
        assert small, f"{name}: no queries counted; is the listener on the right engine?"
        if len(big) != len(small):
            grew[name] = (len(small), len(big), big)
    assert not grew, "queries grow with the plan's size:\n" + "\n".join(
        f"{name}: {few} queries with {FEW} items, {many} with {MANY}; with {MANY}:\n  " + "\n  ".join(statements)
        for name, (few, many, statements) in grew.items()
    )


def test_the_home_page_makes_no_more_queries_for_more_plans(
    app: Flask, client: FlaskClient, plans: dict[int, int], owner: Any, add_member: Any
) -> None:
    with app.app_context():
        engine = db.engine
    client.get("/")
    two_plans = len(_count(client, engine, "/"))
    with app.app_context():
        for n in range(8):
            add_member(store.create_from_doc(generated_plan(FEW), title=f"Another plan {n}"), owner)
        db.session.remove()
    assert len(_count(client, engine, "/")) == two_plans


@pytest.mark.pdf
def test_a_cached_pdf_download_reads_the_person_plan_and_membership_in_one_query(
    app: Flask, client: FlaskClient, plans: dict[int, int], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A download of a PDF that is already drawn should cost about what a file costs: the access
    # check is all the database work it needs, and it is one statement (docs/performance.md).
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path))
    with app.app_context():
        engine = db.engine
    url = f"/plans/{plans[FEW]}/document.pdf"
    client.get(url).close()  # draws it into the cache
    with counting_queries(engine) as statements:
        response = client.get(url)
        response.close()
    assert response.status_code == 200
    assert len(statements) == 1, statements
    # The person's log-in session (planner/accounts/sessions.py) is checked in that same statement.
    assert all(table in statements[0] for table in ("users", "account_sessions", "memberships", "plans")), statements[0]
