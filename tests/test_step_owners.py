"""Step owners: only someone who can write a step is offered as its owner, and a step that is
done is not called overdue, in the step's header or in the owner's list on the home page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from planner.discussion import assignments
from planner.domain import STEPS
from planner.extensions import db
from planner.plans import store
from tests.test_query_counts import counting_queries

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def _owner_choices(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="owner"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no owner picker"
    return re.findall(r"<option[^>]*>([^<]*)</option>", select[1])


def test_a_viewer_is_not_offered_as_a_step_owner(web, example_plan, editor, viewer) -> None:
    page = web.get(f"/plans/{example_plan.id}/steps/goals").get_data(as_text=True)
    choices = _owner_choices(page)
    assert editor.name in choices and "Fay Facilitator" in choices
    assert viewer.name not in choices


def test_a_viewer_cannot_be_made_a_step_owner(web, example_plan, viewer) -> None:
    url = f"/plans/{example_plan.id}/steps/goals/assignment"
    response = web.post(url, {"owner": str(viewer.id), "due": ""}, follow_redirects=True)
    assert "Step owner saved." not in response.get_data(as_text=True)
    assert assignments.assignment(example_plan.id, "goals") is None
    # Nor through the service, whatever sends it.
    with pytest.raises(assignments.AssignmentRefused, match="A viewer cannot own a step"):
        assignments.assign(example_plan, "goals", viewer.id, None)


def test_a_complete_step_past_its_date_is_not_overdue(web, example_plan, owner) -> None:
    plan_id = example_plan.id
    for slug in ("goals", "measurement"):
        saved = web.post(f"/plans/{plan_id}/steps/{slug}/assignment", {"owner": str(owner.id), "due": YESTERDAY})
        assert saved.status_code == 302
    store.update_plan_fields(example_plan, {"review_cadence": None})  # measurement is not done now

    goals = web.get(f"/plans/{plan_id}/steps/goals").get_data(as_text=True)
    assert "(overdue)" not in goals and "(done)" in goals
    measurement = web.get(f"/plans/{plan_id}/steps/measurement").get_data(as_text=True)
    assert "(overdue)" in measurement

    home = web.get("/").get_data(as_text=True)
    mine = re.search(r'<ul class="due-list">(.*?)</ul>', home, re.S)[1]
    rows = {m[1]: m[0] for m in re.findall(r'<li class="([^"]*)">\s*<a[^>]*>\d+\. ([^<]+)</a>', mine)}
    assert rows == {"Goals": "", "Measurement": "overdue"}
    goals_row = re.search(r"Goals</a>(.*?)</li>", mine, re.S)[1]
    assert "Overdue" not in goals_row and "done" in goals_row


def test_which_steps_are_complete_is_read_in_the_same_queries_for_any_number_of_plans(
    ctx: Any, example_doc: dict, owner: Any
) -> None:
    one = store.create_from_doc(example_doc["plan"])
    empty = store.create_plan("Nothing yet")
    with counting_queries(db.engine) as one_plan:
        assert assignments.complete_steps({one.id}) == {one.id: {s.slug for s in STEPS}}
    with counting_queries(db.engine) as two_plans:
        found = assignments.complete_steps({one.id, empty.id})
    assert found[empty.id] == set()
    assert len(two_plans) == len(one_plan)
