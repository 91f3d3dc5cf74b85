"""What a save, an edit form and the step page after a write cost the database, in statements.

Under a team of editors (bench/team_load.py) every step page comes after someone's save, and a
save waits behind them: each statement is a trip to the database and, in a busy worker, a wait
for its turn to run again. So a save reads its item and what its form offers once, and writes
from that read (`store.form_read`); an edit form reads them in three statements; and a step page
reads the plan's reference lists in one. The caps are what this reached (docs/performance.md);
before, a save of a practice took 20 statements besides the transaction's own (now 7), its edit
form 10 (now 5) and the step page after it 21 (now 17).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Row

from planner.domain import ENTITIES, ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from planner.plans.models import Change
from planner.plans.store.journal import field_labels, named
from tests.test_query_counts import counting_queries

PRACTICE = ENTITY_BY_NAME["practice"]
# The transaction's own bookkeeping: the same count of it whatever the page does.
BOOKKEEPING = re.compile(r"^\s*(BEGIN|SAVEPOINT|RELEASE|COMMIT|ROLLBACK)", re.I)


def _work(statements: list[str]) -> list[str]:
    return [s for s in statements if not BOOKKEEPING.match(s)]


def _practice(plan: Any) -> dict[str, Any]:
    """The example plan's first practice: it refers to an objective, and lists segments,
    channels and people, the most references any kind has."""
    return store.load_doc(plan)["practices"][0]


def _edit_form(web: Any, plan_id: int, key: str) -> dict[str, Any]:
    """The edit form as a browser sends it, with the description typed in."""
    web.token()  # read once, before anything is counted
    page = web.get(f"/plans/{plan_id}/items/practice/{key}/edit?fragment=1").get_data(as_text=True)
    form = {**form_values(page), "base_version": re.search(r'name="base_version" value="(\d+)"', page).group(1)}
    form.pop("csrf_token", None)
    return {**form, f"practice-{key}-description": "Written once, read once"}


class _Form(HTMLParser):
    """What a browser sends of a form: its inputs, ticked boxes, chosen options and texts."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.values.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.values.setdefault(self.select, []).append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[self.textarea] = [""]

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        self.select = None if tag == "select" else self.select
        self.textarea = None if tag == "textarea" else self.textarea


def form_values(html: str) -> dict[str, list[str]]:
    reader = _Form()
    reader.feed(html)
    return reader.values


def _sent(web: Any, plan_id: int, key: str, form: dict[str, Any]) -> Any:
    return web.post(f"/plans/{plan_id}/items/practice/{key}", form)


def test_an_item_save_reads_its_item_once_and_writes_three_statements(app: Flask, web: Any, example_plan: Any) -> None:
    plan_id, key = example_plan.id, _practice(example_plan)["key"]
    form = _edit_form(web, plan_id, key)
    with counting_queries(db.engine) as statements:
        answer = _sent(web, plan_id, key, form)
    assert answer.status_code == 302
    work = _work(statements)
    # Who is signed in (with the plan); what the form offers; the item; its reference lists.
    # Then the item, the record of the change and the plan's revision.
    assert len(work) <= 7, "\n".join(work)
    assert len([s for s in work if re.search(r"\bFROM practices\b", s)]) == 1, "\n".join(work)
    db.session.remove()
    assert _practice(store.get_plan(plan_id))["description"] == "Written once, read once"


def test_an_add_reads_what_its_form_offers_once(web: Any, example_plan: Any) -> None:
    """The items a new practice may refer to are read for the form, and the add writes from that."""
    web.token()
    plan_id, objective = example_plan.id, store.load_doc(example_plan)["objectives"][0]["key"]
    form = {"new-practice-description": "A practice added", "new-practice-objective": objective}
    with counting_queries(db.engine) as statements:
        answer = web.post(f"/plans/{plan_id}/items/practice/new", form)
    assert answer.status_code == 302
    work = _work(statements)
    assert len([s for s in work if re.search(r"\bFROM objectives\b", s)]) == 1, "\n".join(work)
    db.session.remove()
    added = store.load_doc(store.get_plan(plan_id))["practices"][-1]
    assert (added["description"], added["objective"]) == ("A practice added", objective)


def test_an_edit_form_reads_what_it_offers_and_its_item_in_five_statements(web: Any, example_plan: Any) -> None:
    key = _practice(example_plan)["key"]
    with counting_queries(db.engine) as statements:
        answer = web.get(f"/plans/{example_plan.id}/items/practice/{key}/edit?fragment=1")
    assert answer.status_code == 200 and 'name="practice-' in answer.get_data(as_text=True)
    work = _work(statements)
    assert len(work) <= 5, "\n".join(work)


def test_the_step_page_after_a_save_reads_the_reference_lists_in_one_statement(web: Any, example_plan: Any) -> None:
    plan_id, key = example_plan.id, _practice(example_plan)["key"]
    url = f"/plans/{plan_id}/steps/engagement"
    assert web.get(url).status_code == 200  # the visit is recorded: what follows is the usual page
    assert _sent(web, plan_id, key, _edit_form(web, plan_id, key)).status_code == 302
    with counting_queries(db.engine) as statements:
        page = web.get(url)
    assert page.status_code == 200 and "Written once, read once" in page.get_data(as_text=True)
    work = _work(statements)
    assert len(work) <= 17, "\n".join(work)
    assert len([s for s in work if "_segments" in s or "_owners" in s]) == 1, "\n".join(work)


def test_a_save_overtaken_after_its_form_was_read_is_tried_again_and_merges(
    web: Any, example_plan: Any, add_user: Any, add_member: Any, monkeypatch: Any
) -> None:
    """The save writes from what its form read; another save landing between that read and
    the write is not undone: the write is refused at the old version, read again, and merged."""
    plan_id, key = example_plan.id, _practice(example_plan)["key"]
    ben = add_user("ben@example.org", "Ben Brown")
    add_member(example_plan, ben, "editor")
    form = _edit_form(web, plan_id, key)
    form_read = store.form_read

    def read_then_ben_saves(*args: Any) -> Any:
        read = form_read(*args)
        monkeypatch.setattr(store, "form_read", form_read)
        store.update_item(store.get_plan(plan_id), PRACTICE, key, {"hours_per_week": 7}, actor=ben)
        return read

    monkeypatch.setattr(store, "form_read", read_then_ben_saves)
    assert _sent(web, plan_id, key, form).status_code == 302
    db.session.remove()
    saved = _practice(store.get_plan(plan_id))
    assert (saved["description"], saved["hours_per_week"]) == ("Written once, read once", 7)
    summaries = db.session.scalars(select(Change.summary).where(Change.plan_id == plan_id).order_by(Change.id)).all()
    labels = [field_labels(PRACTICE, [name]) for name in ("hours_per_week", "description")]
    # Ben's edit, then Ana's: her save changed only the field she typed in.
    assert [s.rsplit(": ", 1)[1] for s in summaries[-2:]] == labels
    assert summaries[-1] == f"Edited {named(PRACTICE, saved)}: {labels[1]}"
    # And her entry in the history tells the item as it was and is: Ben's hours in both.
    before, after = db.session.execute(
        select(Change.before, Change.after).where(Change.plan_id == plan_id).order_by(Change.id.desc()).limit(1)
    ).one()
    assert (before["hours_per_week"], after["hours_per_week"]) == (7, 7)
    assert after["description"] == "Written once, read once"


def test_no_field_is_named_as_a_row_reads_its_own_attributes(ctx: Flask) -> None:
    """`load_doc` reads items as rows, by attribute: a field named `count` or `index` would read
    as the row's method, not its column."""
    shadowed = [(e.name, f.name) for e in ENTITIES for f in e.fields if hasattr(Row, f.name)]
    assert not shadowed
