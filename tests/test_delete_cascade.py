"""Deleting an item: the page that asks lists exactly what the deletion then does.

What a deletion takes along is worked out once (`planner.plans.store.cascade`). These tests delete
every item of the example plan in turn and check three things against it: the confirmation
page names every item that goes and every item that loses a reference, second-order ones too;
the plan in the database afterwards is the plan less what was listed; and the history records
the same items.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from planner.domain import ENTITIES, ENTITY_BY_NAME
from planner.extensions import db
from planner.interchange.example import example_document
from planner.plans import store, view
from planner.plans.models import Change
from planner.plans.store.cascade import cascade

EXAMPLE = example_document()["plan"]
EVERY_ITEM = [(e.name, i["key"]) for e in ENTITIES for i in view.items(EXAMPLE, e)]


def _page_lists(page: str, css_class: str) -> list[str]:
    """The items a list of the delete page names, as text."""
    found = re.search(rf'<ul class="referrers {css_class}">(.*?)</ul>', page, re.S)
    if not found:
        return []
    items = re.findall(r"<li>(.*?)</li>", found[1], re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", li)).split()) for li in items]


def _without(doc: dict[str, Any], found: Any) -> dict[str, Any]:
    """The plan document as the cascade says it will be after the deletion."""
    gone = {(d.entity.name, d.item["key"]) for d in found.deleted}
    changed = {(c.entity.name, c.before["key"]): c.after for c in found.cleared}
    out = dict(doc)
    for e in ENTITIES:
        out[e.collection] = [
            changed.get((e.name, i["key"]), i) for i in view.items(doc, e) if (e.name, i["key"]) not in gone
        ]
    return out


def test_deleting_a_goal_lists_the_practices_and_metrics_that_lose_their_objective(web, example_plan) -> None:
    goal = EXAMPLE["goals"][0]
    page = web.get(f"/plans/{example_plan.id}/items/goal/{goal['key']}/delete").get_data(as_text=True)
    objectives = [o for o in EXAMPLE["objectives"] if o["goal"] == goal["key"]]
    keys = {o["key"] for o in objectives}
    losing = [(n, i) for n in ("practice", "metric") for i in view.items(EXAMPLE, n) if i.get("objective") in keys]
    assert len(objectives) == 2 and len(losing) >= 5  # the example plan is such a plan

    deleted, cleared = _page_lists(page, "cascade-deleted"), _page_lists(page, "cascade-cleared")
    assert [line.split("”")[0] for line in deleted] == [f"Social objective “{o['statement']}" for o in objectives]
    assert all("will be deleted too, because it cannot exist without it." in line for line in deleted)
    for name, item in losing:
        entity = ENTITY_BY_NAME[name]
        objective = next(o for o in objectives if o["key"] == item["objective"])
        line = next(line for line in cleared if line.startswith(f"{entity.label} “{view.title_of(entity, item)}”"))
        assert "(serves objective)" in line or "(measures objective)" in line
        assert f"the reference to social objective “{objective['statement']}”, which goes too, will be removed." in line
    assert len(cleared) == len(losing)
    intro = f"deletes 2 items that cannot exist without it, and removes a reference from {len(losing)} others:"
    assert f"Deleting it also {intro}" in html.unescape(page)


@pytest.mark.parametrize(("entity_name", "key"), EVERY_ITEM, ids=[f"{n}-{k}" for n, k in EVERY_ITEM])
def test_the_delete_page_and_the_deletion_agree_for_every_item(
    ctx, web, owner, add_member, entity_name: str, key: str
) -> None:
    entity = ENTITY_BY_NAME[entity_name]
    plan = store.create_from_doc(example_document()["plan"])
    add_member(plan, owner, "facilitator")
    doc = store.load_doc(plan)
    found = cascade(doc, entity, key)
    url = f"/plans/{plan.id}/items/{entity_name}/{key}/delete"

    page = web.get(url).get_data(as_text=True)
    deleted, cleared = _page_lists(page, "cascade-deleted"), _page_lists(page, "cascade-cleared")
    assert [line.split(" (")[0] for line in deleted] == [f"{d.entity.label} “{d.title}”" for d in found.along]
    assert [line.split(" (")[0] for line in cleared] == [f"{c.entity.label} “{c.title}”" for c in found.cleared]
    assert ("Nothing else in the plan refers to it." in page) == (not found)

    assert web.post(url, {"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    after = store.load_doc(store.get_plan(plan.id))
    expected = _without(doc, found)
    for e in ENTITIES:
        assert after[e.collection] == expected[e.collection], e.collection

    changes = db.session.scalars(select(Change).where(Change.plan_id == plan.id, Change.action != "import")).all()
    assert sorted((c.action, c.entity, c.item_key) for c in changes) == sorted(
        [("delete", d.entity.name, d.item["key"]) for d in found.deleted]
        + [("update", c.entity.name, c.before["key"]) for c in found.cleared]
    )
