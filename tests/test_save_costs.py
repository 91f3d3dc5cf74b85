"""What a save holds, and what a step page keeps, when many people work on one plan at once.

A save moves the plan's revision on as its last statement before the commit: the plan's row,
which every save of the plan waits for, is locked for that moment, not from the write to the
end of the request. Nothing worked out of a plan the request's own transaction changed is
kept (it is not yet the revision's, and it may be rolled back). A member's news is kept per
revision and is worked out again when a comment is added.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from planner import unit
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.models import Plan
from planner.plans import store

GOAL = ENTITY_BY_NAME["goal"]


def _first_goal(plan: Any) -> dict[str, Any]:
    return store.load_doc(plan)["goals"][0]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row locks: PostgreSQL")
def test_a_save_leaves_the_plans_row_unlocked_until_it_commits(example_plan: Any, owner: Any) -> None:
    """Another save of the same plan (another item) need not wait while this one's request
    goes on: the plan's row is free until the commit, and then moved on by one."""
    plan_id, revision = example_plan.id, example_plan.revision
    goal = _first_goal(example_plan)
    other = create_engine(os.environ["TEST_DATABASE_URL"])
    try:
        with unit.unit_of_work():
            plan = db.session.get(Plan, plan_id)
            store.update_item(plan, GOAL, goal["key"], {"statement": "Saved, not committed yet"}, actor=owner)
            with other.connect() as conn:
                # Raises at once (NOWAIT) if the row is locked: it was, before, until the commit.
                conn.execute(text("SET lock_timeout = '1s'"))
                locked = conn.execute(
                    text("SELECT id FROM plans WHERE id = :id FOR NO KEY UPDATE NOWAIT"), {"id": plan_id}
                ).all()
                conn.rollback()
            assert locked == [(plan_id,)]
        db.session.remove()
        assert db.session.scalar(select(Plan.revision).where(Plan.id == plan_id)) == revision + 1
    finally:
        other.dispose()


def test_what_a_rolled_back_save_showed_is_never_shown_later(example_plan: Any, owner: Any) -> None:
    """A page drawn in the request of a save that is then refused must not be kept: the next
    committed save reaches the same revision, and must show its own content."""
    plan_id = example_plan.id
    goal = _first_goal(example_plan)
    try:
        with unit.unit_of_work():
            plan = db.session.get(Plan, plan_id)
            store.update_item(plan, GOAL, goal["key"], {"statement": "Refused in the end"}, actor=owner)
            assert store.page_doc(plan)["goals"][0]["statement"] == "Refused in the end"
            raise RuntimeError("the request fails after the save")
    except RuntimeError:
        pass
    db.session.remove()
    plan = db.session.get(Plan, plan_id)
    store.update_item(plan, GOAL, goal["key"], {"why": "Saved for real"}, actor=owner)
    db.session.remove()
    shown = store.page_doc(db.session.get(Plan, plan_id))["goals"][0]
    assert shown["why"] == "Saved for real"
    assert shown["statement"] == goal["statement"]


def test_news_kept_for_a_revision_still_tells_of_a_new_comment(
    web: Any, example_plan: Any, owner: Any, as_user: Any, add_user: Any, add_member: Any
) -> None:
    """The step's line of news is kept per revision; a colleague's comment, which moves no
    revision, is still news on the next look."""
    colleague = add_user("cole@example.org", "Cole Colleague")
    add_member(example_plan, colleague, "editor")
    url = f"/plans/{example_plan.id}/steps/goals"
    assert web.get(url).status_code == 200  # the first visit: from now on, what others do is news
    assert "Cole Colleague commented" not in web.get(url).get_data(as_text=True)
    other = as_user(colleague)
    answer = other.post(f"/plans/{example_plan.id}/comments", data={"step": "goals", "body": "A question"})
    assert answer.status_code in (302, 303)
    assert "Cole Colleague commented" in web.get(url).get_data(as_text=True)
