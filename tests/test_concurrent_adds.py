"""People adding items to one plan at the same moment, on PostgreSQL, where their saves really
run side by side (SQLite takes one writer at a time, so it cannot show this)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from planner.domain import entity
from planner.extensions import db
from planner.models import ITEM_MODELS, Plan
from planner.plans import store

LISTENING = entity("listening_target")
PEOPLE = 8


def test_eight_people_adding_at_once_each_get_their_item_under_a_key_of_its_own(app: Flask, example_plan: Any) -> None:
    """The bench's 50 editors once met a 500: three adds in a row chose the same new key as one
    being saved meanwhile, and the third retry gave up. The plan's row is now locked before a
    key is chosen, so the adds take their keys one after another."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite lets one writer in at a time: the PostgreSQL pass of `make test` runs this")
    plan_id = example_plan.id
    model = ITEM_MODELS[LISTENING.name]
    before = set(db.session.scalars(select(model.key).where(model.plan_id == plan_id)))
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(PEOPLE, timeout=20)
    results: dict[int, str] = {}

    def add(n: int) -> None:
        with app.app_context():
            try:
                plan = db.session.get(Plan, plan_id)
                start.wait()
                store.add_item(plan, LISTENING, {LISTENING.title_field: f"Forum thread {n}"})
                results[n] = "ok"
            except Exception as exc:  # the test reports whatever went wrong
                db.session.rollback()
                results[n] = repr(exc)[:200]
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == dict.fromkeys(range(PEOPLE), "ok")
    rows = db.session.execute(select(model.key, getattr(model, LISTENING.title_field)).where(model.plan_id == plan_id))
    added = {key: title for key, title in rows if key not in before}
    assert sorted(added.values()) == sorted(f"Forum thread {n}" for n in range(PEOPLE))
    assert len(added) == PEOPLE  # each under a key of its own
