"""A save that loses the race to others again and again still lands, on PostgreSQL, where saves
really run side by side (SQLite takes one writer at a time, so no save there can lose a race).

The bench's 50 editors met a 500 on a step's fields: three colleagues saved the plan's fields
while one save was being made, each just before its next try, and the third try gave up. A try
after a lost race now locks the row it writes before it reads it, so it cannot lose again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.models import Plan
from planner.plans import store
from planner.plans.store import writing

PRACTICE = ENTITY_BY_NAME["practice"]


@pytest.fixture
def colleague_first(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Before each try of the save under test reads what it merges with, a colleague commits a
    save of their own (`theirs(plan)`, in a session of their own). A colleague who must wait
    (the try holds the row) finishes after the save under test commits. Returns what each of the
    colleague's saves came to, once they are done."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite lets one writer in at a time: the PostgreSQL pass of `make test` runs this")
    outcomes: list[str] = []
    threads: list[threading.Thread] = []
    ours = threading.current_thread()

    def arm(theirs: Callable[[Any], None]) -> Callable[[], list[str]]:
        real = writing.merge_edit

        def colleague() -> None:
            with app.app_context():
                try:
                    theirs(db.session.get(Plan, plan_id[0]))
                    db.session.commit()
                    outcomes.append("saved")
                except Exception as exc:  # the test reports it
                    db.session.rollback()
                    outcomes.append(repr(exc)[:200])
                finally:
                    db.session.remove()

        def merge_edit(plan_id_: int, *args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not ours:  # the colleague's own save
                return real(plan_id_, *args, **kwargs)
            plan_id[:] = [plan_id_]
            thread = threading.Thread(target=colleague)
            threads.append(thread)
            thread.start()
            thread.join(1.5)  # a colleague blocked by this try's lock waits for its commit
            return real(plan_id_, *args, **kwargs)

        def finished() -> list[str]:
            for thread in threads:
                thread.join(30)
            return outcomes

        plan_id: list[int] = []
        monkeypatch.setattr(writing, "merge_edit", merge_edit)
        return finished

    yield arm
    for thread in threads:
        thread.join(30)


def test_a_save_of_the_plans_fields_that_others_beat_at_every_try_still_lands(
    app: Flask, example_plan: Any, colleague_first: Any
) -> None:
    plan_id, n = example_plan.id, iter(range(100))
    finished = colleague_first(lambda plan: store.update_plan_fields(plan, {"vision": f"Their vision {next(n)}"}))
    plan = db.session.get(Plan, plan_id)
    saved = store.update_plan_fields(plan, {"mission": "Our mission, saved at last"}, base_version=plan.fields_version)
    db.session.commit()
    assert saved.changed == ("mission",)
    db.session.remove()
    outcomes = finished()
    assert len(outcomes) >= 2 and all(o == "saved" for o in outcomes), outcomes
    doc = store.load_doc(db.session.get(Plan, plan_id))
    assert doc["mission"] == "Our mission, saved at last"
    assert doc["vision"].startswith("Their vision")  # and theirs stand beside it


def test_an_item_save_that_others_beat_at_every_try_still_lands(
    app: Flask, example_plan: Any, colleague_first: Any
) -> None:
    plan_id, key = example_plan.id, store.load_doc(example_plan)["practices"][0]["key"]
    n = iter(range(100))
    finished = colleague_first(lambda plan: store.update_item(plan, PRACTICE, key, {"hours_per_week": 1 + next(n)}))
    plan = db.session.get(Plan, plan_id)
    version = store.item_version(plan, PRACTICE, key)
    saved = store.update_item(plan, PRACTICE, key, {"description": "Ours, saved at last"}, base_version=version)
    db.session.commit()
    assert saved.changed == ("description",)
    db.session.remove()
    outcomes = finished()
    assert len(outcomes) >= 2 and all(o == "saved" for o in outcomes), outcomes
    practice = store.load_doc(db.session.get(Plan, plan_id))["practices"][0]
    assert practice["description"] == "Ours, saved at last"
