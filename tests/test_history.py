"""History: every write is on the record, can be looked at, and can be undone.

The record is tested as plain calls to the store (who, when, what, before and after), then
through HTTP: the history page with its filters and pages, one change side by side, restores,
and the marks that show a member what others changed since their last visit.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from planner.accounts.models import Membership
from planner.discussion import comments, visits
from planner.discussion.models import Comment
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.models import utcnow
from planner.plans import cached, store
from planner.plans.models import Change
from tests.test_query_counts import counting_queries

GOAL, OBJECTIVE, SEGMENT, PERSON, PRACTICE = (
    ENTITY_BY_NAME[n] for n in ("goal", "objective", "segment", "person", "practice")
)


def changes(plan_id: int) -> list[Change]:
    return list(db.session.scalars(select(Change).where(Change.plan_id == plan_id).order_by(Change.id)))


def last_change(plan_id: int) -> Change:
    return changes(plan_id)[-1]


@pytest.fixture
def plan(ctx: Any, ana: Any, ben: Any, add_member: Any) -> Any:
    plan = store.create_plan("Library plan", actor=ana)
    add_member(plan, ana, "facilitator")
    add_member(plan, ben, "editor")
    return db.session.merge(plan)


# ---------------------------------------------------------------- the record


def test_creating_a_plan_is_recorded_with_who_and_when(plan: Any, ana: Any) -> None:
    (change,) = changes(plan.id)
    assert (change.action, change.entity, change.user_id) == ("create", "plan", ana.id)
    assert change.after == {"title": "Library plan"}
    assert utcnow() - change.at < timedelta(minutes=1)


def test_an_item_edit_records_the_item_before_and_after_and_what_changed(plan: Any, ana: Any, ben: Any) -> None:
    store.add_item(plan, SEGMENT, {"name": "New parents", "priority": "secondary"}, actor=ana)
    created = last_change(plan.id)
    assert (created.action, created.entity, created.item_key, created.step) == ("create", "segment", "s1", "audiences")
    assert created.before is None and created.after["name"] == "New parents" and created.version == 1
    assert created.summary == "Added audience segment “New parents”"

    store.update_item(plan, SEGMENT, "s1", {"priority": "primary", "venues": ["Parents' group"]}, actor=ben)
    edit = last_change(plan.id)
    assert (edit.action, edit.user_id, edit.version) == ("update", ben.id, 2)
    assert edit.before["priority"] == "secondary" and edit.before["venues"] == []
    assert edit.after["priority"] == "primary" and edit.after["venues"] == ["Parents' group"]
    assert edit.after["name"] == "New parents", "before and after hold the whole item"
    assert edit.summary == "Edited audience segment “New parents”: priority, where they already talk"


def test_a_save_that_changes_nothing_records_nothing(plan: Any, ana: Any) -> None:
    store.add_item(plan, GOAL, {"statement": "More borrowing"}, actor=ana)
    before = len(changes(plan.id))
    saved = store.update_item(plan, GOAL, "g1", {"statement": "  More borrowing ", "why": ""}, actor=ana)
    assert saved.changed == ()
    assert len(changes(plan.id)) == before
    assert store.get_item(plan, GOAL, "g1").version == 1


def test_plan_field_edits_record_only_the_fields_that_changed(plan: Any, ana: Any) -> None:
    version = plan.fields_version
    store.update_plan_fields(plan, {"title": "Library plan", "organization": "Eastside", "mission": None}, actor=ana)
    change = last_change(plan.id)
    assert (change.entity, change.item_key, change.step) == ("plan", None, "starting-point")
    assert change.before == {"organization": None} and change.after == {"organization": "Eastside"}
    assert change.summary == "Edited Starting point: organization"
    assert plan.fields_version == version + 1 == change.version


def test_moves_are_recorded_without_disturbing_anyone_editing(plan: Any, ana: Any) -> None:
    for statement in ("First", "Second"):
        store.add_item(plan, GOAL, {"statement": statement}, actor=ana)
    store.move_item(plan, GOAL, "g2", -1, actor=ana)
    move = last_change(plan.id)
    assert (move.action, move.item_key, move.before, move.after) == ("move", "g2", {"position": 2}, {"position": 1})
    assert move.summary == "Moved goal “Second” up"
    assert store.item_versions(plan.id, GOAL) == {"g1": 1, "g2": 1}


def test_an_import_and_a_copy_are_one_change_each(ctx: Any, example_doc: dict, ana: Any) -> None:
    plan = store.create_from_doc(example_doc["plan"], actor=ana)
    (imported,) = changes(plan.id)
    assert (imported.action, imported.entity, imported.user_id) == ("import", "plan", ana.id)
    assert imported.summary.startswith(f"Imported the plan “{example_doc['plan']['title']}” (")
    copy = store.duplicate_plan(plan, actor=ana)
    (copied,) = changes(copy.id)
    assert copied.action == "import" and copied.source == f"plan:{plan.id}"
    assert copied.summary.startswith("Copied from “")


def test_a_workshop_guest_is_not_recorded_as_an_account(plan: Any) -> None:
    class Guest:
        id = 12345  # a participant's id, not a user's

    store.add_item(plan, GOAL, {"statement": "From the room"}, actor=Guest(), source="workshop ABC, idea #3")
    change = last_change(plan.id)
    assert change.user_id is None and change.source == "workshop ABC, idea #3"


def _goal_with_dependants(plan: Any, actor: Any) -> None:
    store.add_item(plan, GOAL, {"statement": "More borrowing"}, actor=actor)
    store.add_item(plan, OBJECTIVE, {"goal": "g1", "statement": "Be asked about repairs"}, actor=actor)
    store.add_item(plan, SEGMENT, {"name": "New parents"}, actor=actor)
    store.add_item(
        plan, PRACTICE, {"description": "Answer questions", "objective": "o1", "segments": ["s1"]}, actor=actor
    )


def test_a_deletion_records_what_went_with_it(plan: Any, ana: Any) -> None:
    _goal_with_dependants(plan, ana)
    store.delete_item(plan, GOAL, "g1", actor=ana)
    goal, objective, practice = changes(plan.id)[-3:]
    assert (goal.action, goal.item_key, goal.after) == ("delete", "g1", None)
    assert goal.before["statement"] == "More borrowing"
    assert goal.summary == "Deleted goal “More borrowing”, and 1 item that needed it"
    assert (objective.action, objective.item_key, objective.source) == ("delete", "o1", f"change:{goal.id}")
    assert (practice.action, practice.item_key, practice.source) == ("update", "pr1", f"change:{goal.id}")
    assert practice.before["objective"] == "o1" and practice.after["objective"] is None
    # Someone editing the practice is told it changed: its version moved on.
    assert store.item_versions(plan.id, PRACTICE) == {"pr1": 2} == {"pr1": practice.version}


# ---------------------------------------------------------------- restoring


def test_restoring_a_deletion_brings_back_the_item_and_what_went_with_it(plan: Any, ana: Any, ben: Any) -> None:
    _goal_with_dependants(plan, ana)
    before = store.load_doc(plan)
    store.delete_item(plan, GOAL, "g1", actor=ana)
    deletion = next(c for c in changes(plan.id) if c.action == "delete" and c.item_key == "g1")

    restored = store.restore(plan, deletion.id, actor=ben)
    assert restored.key == "g1"
    assert store.load_doc(plan) == before
    assert (restored.change.action, restored.change.source, restored.change.user_id) == (
        "restore",
        f"change:{deletion.id}",
        ben.id,
    )
    assert {c.item_key for c in restored.also} == {"o1", "pr1"}
    with pytest.raises(store.RestoreRefused, match="already undone"):
        store.restore(plan, deletion.id, actor=ben)


def test_a_restored_item_keeps_counting_its_versions(plan: Any, ana: Any) -> None:
    store.add_item(plan, GOAL, {"statement": "More borrowing"}, actor=ana)
    store.update_item(plan, GOAL, "g1", {"why": "Less waste"}, actor=ana)
    store.delete_item(plan, GOAL, "g1", actor=ana)
    assert store.next_key(plan.id, GOAL) == "g2", "a deleted item's key is kept for it"
    store.restore(plan, last_change(plan.id).id, actor=ana)
    assert store.get_item(plan, GOAL, "g1").version == 3


def test_a_restored_item_gets_a_new_key_when_its_own_is_taken(plan: Any, ana: Any) -> None:
    store.add_item(plan, SEGMENT, {"name": "New parents"}, actor=ana)
    store.add_item(plan, PERSON, {"name": "Ana"}, actor=ana)
    store.delete_item(plan, SEGMENT, "s1", actor=ana)
    deletion = last_change(plan.id)
    store.add_item(plan, SEGMENT, {"key": "s1", "name": "Retirees"}, actor=ana)
    restored = store.restore(plan, deletion.id, actor=ana)
    assert restored.key == "s2"
    assert [s["name"] for s in store.load_doc(plan)["segments"]] == ["Retirees", "New parents"]
    assert "as s2, since s1 is taken" in restored.change.summary


def test_a_restored_item_keeps_only_references_whose_targets_exist(plan: Any, ana: Any) -> None:
    store.add_item(plan, SEGMENT, {"name": "New parents"}, actor=ana)
    store.add_item(plan, SEGMENT, {"name": "Retirees"}, actor=ana)
    store.add_item(plan, PRACTICE, {"description": "Answer questions", "segments": ["s1", "s2"]}, actor=ana)
    store.delete_item(plan, PRACTICE, "pr1", actor=ana)
    practice_deleted = last_change(plan.id)
    store.delete_item(plan, SEGMENT, "s2", actor=ana)
    store.restore(plan, practice_deleted.id, actor=ana)
    assert store.load_doc(plan)["practices"][0]["segments"] == ["s1"]


def test_restoring_an_edit_sets_the_fields_it_changed_back(plan: Any, ana: Any, ben: Any) -> None:
    store.add_item(plan, SEGMENT, {"name": "New parents", "priority": "primary"}, actor=ana)
    store.update_item(plan, SEGMENT, "s1", {"name": "Young parents", "priority": "secondary"}, actor=ben)
    bens_edit = last_change(plan.id)
    store.update_item(plan, SEGMENT, "s1", {"venues": ["School board"]}, actor=ana)

    restored = store.restore(plan, bens_edit.id, actor=ana)
    segment = store.load_doc(plan)["segments"][0]
    assert (segment["name"], segment["priority"], segment["venues"]) == ("New parents", "primary", ["School board"])
    assert restored.change.action == "restore" and restored.change.source == f"change:{bens_edit.id}"
    # The restore is itself a change, and can be undone in turn.
    store.restore(plan, restored.change.id, actor=ana)
    assert store.load_doc(plan)["segments"][0]["name"] == "Young parents"


def test_restoring_plan_fields(plan: Any, ana: Any) -> None:
    store.update_plan_fields(plan, {"mission": "Fix things together."}, actor=ana)
    store.update_plan_fields(plan, {"mission": "Lend tools."}, actor=ana)
    store.restore(plan, last_change(plan.id).id, actor=ana)
    assert plan.mission == "Fix things together."
    assert last_change(plan.id).summary == "Restored earlier mission"


def test_what_cannot_be_restored_says_why(plan: Any, ana: Any) -> None:
    store.add_item(plan, GOAL, {"statement": "More borrowing"}, actor=ana)
    created = last_change(plan.id)
    with pytest.raises(store.RestoreRefused, match="cannot be undone"):
        store.restore(plan, created.id, actor=ana)
    store.update_item(plan, GOAL, "g1", {"statement": "Less waste"}, actor=ana)
    edit = last_change(plan.id)
    store.delete_item(plan, GOAL, "g1", actor=ana)
    with pytest.raises(store.RestoreRefused, match="deleted since"):
        store.restore(plan, edit.id, actor=ana)
    with pytest.raises(store.NotFound):
        store.restore(plan, 999_999, actor=ana)


# ---------------------------------------------------------------- the pages


@pytest.fixture
def members(ctx: Any, owner: Any, ana: Any, add_member: Any, example_plan: Any) -> Any:
    add_member(example_plan, ana, "editor")
    return example_plan


def test_the_history_page_lists_changes_newest_first_with_who_and_what(
    web: Any, members: Any, ana: Any, owner: Any
) -> None:
    plan = members
    store.update_item(plan, GOAL, "g1", {"why": "Fewer things thrown away."}, actor=ana)
    store.update_plan_fields(plan, {"voice": "Warm and plain."}, actor=owner)
    html = web.get(f"/plans/{plan.id}/history").get_data(as_text=True)
    summaries = re.findall(r'<a href="/plans/\d+/history/\d+">([^<]+)</a>', html)
    assert summaries[0] == "Edited Engagement: our voice"
    assert summaries[1].startswith("Edited goal “") and summaries[1].endswith(": why it matters")
    assert summaries[-1].startswith("Imported the plan")
    assert "Ana Alvarez" in html and owner.name in html


def test_the_history_is_filtered_by_step_and_by_person(web: Any, members: Any, ana: Any, owner: Any) -> None:
    plan = members
    store.update_item(plan, GOAL, "g1", {"why": "Fewer things thrown away."}, actor=ana)
    store.update_plan_fields(plan, {"voice": "Warm and plain."}, actor=owner)
    by_step = web.get(f"/plans/{plan.id}/history?step=goals").get_data(as_text=True)
    assert "Edited goal" in by_step and "our voice" not in by_step
    by_person = web.get(f"/plans/{plan.id}/history?user={owner.id}").get_data(as_text=True)
    assert "our voice" in by_person and "Edited goal" not in by_person
    assert f'<option value="{ana.id}">Ana Alvarez</option>' in by_person
    by_item = web.get(f"/plans/{plan.id}/history?entity=goal&key=g1").get_data(as_text=True)
    assert "Edited goal" in by_item and "Imported" not in by_item


def _edit_many_times(plan: Any, users: list[Any], times: int) -> None:
    for i in range(times):
        store.update_plan_fields(plan, {"voice": f"Voice {i}"}, actor=users[i % len(users)])


def test_the_history_comes_in_pages(web: Any, members: Any, owner: Any) -> None:
    _edit_many_times(members, [owner], 55)
    first = web.get(f"/plans/{members.id}/history").get_data(as_text=True)
    assert first.count('class="history-entry') == 50
    assert "Older →" in first and "← Newer" not in first
    second = web.get(f"/plans/{members.id}/history?page=2").get_data(as_text=True)
    assert second.count('class="history-entry') == 6  # 5 more edits and the import
    assert "← Newer" in second and "Older →" not in second


def test_a_page_of_history_costs_the_same_queries_however_many_people_wrote_it(
    app: Any, web: Any, members: Any, owner: Any, add_user: Any, add_member: Any
) -> None:
    people = [add_user(f"writer{i}@example.org", f"Writer {i}") for i in range(12)]
    with app.app_context():
        engine = db.engine
    plan_id = members.id
    web.get(f"/plans/{plan_id}/history")  # warm up
    db.session.remove()
    with counting_queries(engine) as few:
        web.get(f"/plans/{plan_id}/history")
    _edit_many_times(store.get_plan(plan_id), [owner, *people], 60)
    db.session.remove()
    with counting_queries(engine) as many:
        assert web.get(f"/plans/{plan_id}/history").status_code == 200
    assert len(many) == len(few)


def test_one_change_shows_before_and_after_with_labels_and_names(web: Any, members: Any, owner: Any) -> None:
    plan = members
    doc = store.load_doc(plan)
    practice = doc["practices"][0]
    person = next(p for p in doc["people"] if p["key"] not in practice["owners"])
    store.update_item(plan, PRACTICE, practice["key"], {"owners": [*practice["owners"], person["key"]]}, actor=owner)
    change = last_change(plan.id)
    html = web.get(f"/plans/{plan.id}/history/{change.id}").get_data(as_text=True)
    assert "Who does it" in html and person["name"] in html
    row = re.search(r'<tr class="changed">(.*?)</tr>', html, re.S).group(1)
    assert "Who does it" in row
    assert "Restore the earlier values" in html


def test_references_to_deleted_items_are_shown_by_their_old_name(web: Any, members: Any, owner: Any) -> None:
    plan = members
    store.add_item(plan, SEGMENT, {"name": "Night-shift nurses"}, actor=owner)
    key = store.load_doc(plan)["segments"][-1]["key"]
    store.add_item(plan, PRACTICE, {"description": "Late answers", "segments": [key]}, actor=owner)
    created = last_change(plan.id)
    store.delete_item(plan, SEGMENT, key, actor=owner)
    html = web.get(f"/plans/{plan.id}/history/{created.id}").get_data(as_text=True)
    assert "Night-shift nurses (deleted)" in html


def test_a_deleted_item_is_restored_through_the_page(web: Any, members: Any, owner: Any) -> None:
    plan = members
    goal = store.load_doc(plan)["goals"][0]
    assert web.post(f"/plans/{plan.id}/items/goal/{goal['key']}/delete", {"confirm": "yes"}).status_code == 302
    deletion = next(c for c in changes(plan.id) if c.action == "delete" and c.item_key == goal["key"])
    page = web.get(f"/plans/{plan.id}/history/{deletion.id}").get_data(as_text=True)
    assert "Restore this goal" in page
    response = web.post(f"/plans/{plan.id}/history/{deletion.id}/restore")
    assert response.status_code == 302
    assert response.location.endswith(f"/steps/goals#goal-{goal['key']}")
    db.session.expire_all()
    assert goal in store.load_doc(plan)["goals"]
    again = web.post(f"/plans/{plan.id}/history/{deletion.id}/restore", follow_redirects=True)
    assert "This deletion was already undone." in again.get_data(as_text=True)
    undone = web.get(f"/plans/{plan.id}/history/{deletion.id}").get_data(as_text=True)
    assert "Undone by" in undone and "Restored goal" in undone


def test_readers_see_the_history_but_cannot_restore(as_user: Any, members: Any, owner: Any, viewer: Any) -> None:
    plan = members
    store.update_plan_fields(plan, {"voice": "Warm and plain."}, actor=owner)
    change = last_change(plan.id)
    reader = as_user(viewer)
    page = reader.get(f"/plans/{plan.id}/history/{change.id}").get_data(as_text=True)
    assert "our voice" in page and "Restore the earlier values" not in page
    assert reader.post(f"/plans/{plan.id}/history/{change.id}/restore").status_code == 403


# ---------------------------------------------------------------- restores and renaming

WHO_RENAMES = "Only a facilitator can rename the plan."


def test_a_restore_leaves_the_fields_it_is_told_to_keep(plan: Any, ana: Any, ben: Any) -> None:
    store.update_plan_fields(plan, {"title": "Tool library", "organization": "Eastside"}, actor=ana)
    edit = last_change(plan.id)
    restored = store.restore(plan, edit.id, actor=ben, keep={"title": WHO_RENAMES})
    assert (plan.title, plan.organization) == ("Tool library", None)
    assert restored.kept == {"title": WHO_RENAMES}
    assert restored.change.after == {"organization": None}
    store.update_plan_fields(plan, {"title": "Renamed again"}, actor=ana)
    with pytest.raises(store.RestoreRefused, match=f"Nothing restored. {WHO_RENAMES}"):
        store.restore(plan, last_change(plan.id).id, actor=ben, keep={"title": WHO_RENAMES})
    assert plan.title == "Renamed again"


@pytest.fixture
def renamed(web: Any, members: Any) -> tuple[Any, Change]:
    """The example plan, renamed by its facilitator through the rename form; `ana` edits it."""
    plan = members
    old = plan.title
    assert web.post(f"/plans/{plan.id}/rename", {"title": "A new name"}).status_code == 302
    db.session.expire_all()
    rename = last_change(plan.id)
    assert rename.before == {"title": old}
    return plan, rename


def title_of(plan: Any) -> str:
    db.session.expire_all()
    return store.get_plan(plan.id).title


def test_an_editor_cannot_undo_a_rename(as_user: Any, renamed: tuple[Any, Change], ana: Any) -> None:
    plan, rename = renamed
    editor = as_user(ana)
    page = editor.get(f"/plans/{plan.id}/history/{rename.id}").get_data(as_text=True)
    assert f"Plan title cannot be restored. {WHO_RENAMES}" in page
    assert "Restore the earlier values" not in page
    response = editor.post(f"/plans/{plan.id}/history/{rename.id}/restore", follow_redirects=True)
    assert f"Nothing restored. {WHO_RENAMES}" in response.get_data(as_text=True)
    assert title_of(plan) == "A new name"


def test_a_facilitator_undoes_a_rename(web: Any, renamed: tuple[Any, Change]) -> None:
    plan, rename = renamed
    page = web.get(f"/plans/{plan.id}/history/{rename.id}").get_data(as_text=True)
    assert "Restore the earlier values" in page and WHO_RENAMES not in page
    assert web.post(f"/plans/{plan.id}/history/{rename.id}/restore").status_code == 302
    assert title_of(plan) == rename.before["title"]


def test_an_editor_restoring_step_1_brings_back_all_but_the_title(
    web: Any, as_user: Any, members: Any, ana: Any
) -> None:
    plan = members
    before = (plan.title, plan.organization)
    sent = {"plan-title": "A new name", "plan-organization": "Someone else", "plan-staff_access": "partial"}
    sent["plan-leadership_participation"] = "some"
    assert web.post(f"/plans/{plan.id}/steps/starting-point", sent).status_code == 302
    db.session.expire_all()
    edit = last_change(plan.id)
    assert {"title", "organization"} <= set(edit.after)
    editor = as_user(ana)
    page = editor.get(f"/plans/{plan.id}/history/{edit.id}").get_data(as_text=True)
    assert f"Plan title stays as it is. {WHO_RENAMES}" in page and "Restore the earlier values" in page
    response = editor.post(f"/plans/{plan.id}/history/{edit.id}/restore", follow_redirects=True)
    shown = html.unescape(response.get_data(as_text=True))
    assert f"Plan title not restored. {WHO_RENAMES}" in shown
    db.session.expire_all()
    now = store.get_plan(plan.id)
    assert (now.title, now.organization) == ("A new name", before[1])


def test_a_change_of_another_plan_is_not_found(web: Any, members: Any, owner: Any) -> None:
    other = store.create_plan("Someone else's", actor=None)
    (change,) = changes(other.id)
    assert web.get(f"/plans/{members.id}/history/{change.id}").status_code == 404
    assert web.post(f"/plans/{members.id}/history/{change.id}/restore").status_code == 404


# ---------------------------------------------------------------- since your last visit


def test_a_visit_starts_after_a_pause(plan: Any, ana: Any) -> None:
    start = utcnow()
    # A first visit: what was there is not news, what others do from now on is.
    assert visits.record_visit(plan.id, ana, now=start) == start
    assert visits.record_visit(plan.id, ana, now=start + timedelta(minutes=20)) == start  # the same visit
    later = start + timedelta(minutes=20) + visits.VISIT_GAP + timedelta(minutes=1)
    assert visits.record_visit(plan.id, ana, now=later) == start + timedelta(minutes=20)
    assert visits.record_visit(plan.id, None) is None


def _pause(plan_id: int, user: Any) -> None:
    """Pretend the member's last visit was an hour ago."""
    db.session.execute(
        update(Membership)
        .where(Membership.plan_id == plan_id, Membership.user_id == user.id)
        .values(current_visit_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()


def test_the_steps_and_items_others_changed_since_my_last_visit_are_marked(
    web: Any, members: Any, owner: Any, ana: Any
) -> None:
    plan = members
    web.get(f"/plans/{plan.id}/steps/goals")
    _pause(plan.id, owner)
    goal = store.load_doc(plan)["goals"][0]
    store.update_item(plan, GOAL, goal["key"], {"why": "Because."}, actor=ana)
    store.update_plan_fields(plan, {"voice": "Warm."}, actor=ana)
    store.update_plan_fields(plan, {"review_cadence": "weekly"}, actor=owner)  # my own: not news

    goals = web.get(f"/plans/{plan.id}/steps/goals").get_data(as_text=True)
    assert re.search(r'Goals</span>\s*<span class="visually-hidden">[^<]*</span>\s*<span class="changed-badge"', goals)
    assert goals.count('class="changed-mark"') == 1
    assert f'href="/plans/{plan.id}/history?entity=goal&amp;key={goal["key"]}"' in goals
    engagement = web.get(f"/plans/{plan.id}/steps/engagement").get_data(as_text=True)
    assert "since your last visit: Our voice." in engagement
    measurement = web.get(f"/plans/{plan.id}/steps/measurement").get_data(as_text=True)
    assert 'class="changed-note"' not in measurement, "my own changes are not news"


def test_a_first_visit_marks_nothing(web: Any, members: Any, ana: Any) -> None:
    store.update_plan_fields(members, {"voice": "Warm."}, actor=ana)
    assert "changed-badge" not in web.get(f"/plans/{members.id}/steps/engagement").get_data(as_text=True)


def test_a_page_number_too_large_for_the_database_shows_an_empty_page(web: Any, example_plan: Any) -> None:
    response = web.get(f"/plans/{example_plan.id}/history?page={2**70}")
    assert response.status_code == 200
    assert "No changes" in response.get_data(as_text=True)


def _badge(page: str, slug: str) -> str | None:
    """The count on a step's link in the progress bar, if any."""
    link = re.search(rf'href="/plans/\d+/steps/{slug}"[^>]*>(.*?)</a>', page, re.S)
    badge = link and re.search(r'class="changed-badge"[^>]*>(\d+)<', link[1])
    return badge[1] if badge else None


@pytest.fixture
def morning(monkeypatch: pytest.MonkeyPatch, members: Any, ana: Any, ben: Any, add_member: Any) -> Any:
    """A clock for the visits, which a test moves on; Ben is an editor of the plan too."""
    add_member(members, ben, "editor")
    clock = [utcnow() - timedelta(hours=3)]
    monkeypatch.setattr(visits, "utcnow", lambda: clock[0])

    start = clock[0]

    def at(minutes: int) -> Any:
        clock[0] = start + timedelta(minutes=minutes)
        return clock[0]

    return at


def _backdate(model: Any, column: str, row_id: int, moment: Any) -> None:
    db.session.execute(update(model).where(model.id == row_id).values({column: moment}))
    db.session.commit()
    cached.clear()  # rows changed behind the store's back


def test_a_colleague_back_the_same_morning_sees_what_changed_on_a_step_and_who_changed_it(
    web: Any, members: Any, ana: Any, ben: Any, morning: Any
) -> None:
    """Fay reads the audiences at nine and goes on through the plan; Ana renames a segment at
    twenty past and Ben comments on the step. Fay, back before lunch, is shown both on the
    audiences, though she was looking at other steps after they happened."""
    plan = members
    segment = store.load_doc(plan)["segments"][0]
    morning(0)
    web.get(f"/plans/{plan.id}/steps/audiences")
    store.update_item(plan, SEGMENT, segment["key"], {"name": "Young parents"}, actor=ana)
    _backdate(Change, "at", last_change(plan.id).id, morning(20))
    said = comments.add_comment(plan, ben, "Do we reach the grandparents too?", step="audiences")
    _backdate(Comment, "created_at", said.id, morning(22))
    morning(25)
    web.get(f"/plans/{plan.id}/steps/goals")  # still here, on another step

    morning(120)
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    line = re.search(r'<p class="news-line">(.*?)<a ', page, re.S)
    assert line, "no line saying what changed"
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", line[1])).split()) == (
        "Since you last looked Ana Alvarez edited audience segment “Young parents”: name; Ben Brown commented."
    )
    assert f'href="/plans/{plan.id}/history?entity=segment&amp;key={segment["key"]}"' in page  # the item's mark
    assert _badge(page, "audiences") == "2"  # the change and the comment
    assert '<span class="changed-mark">New</span>' in page
    assert _badge(page, "goals") is None  # seen since

    # The marks stay while she is here, and are gone when she comes back another time.
    morning(125)
    assert 'class="news-line"' in web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    morning(240)
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    assert 'class="news-line"' not in page and _badge(page, "audiences") is None


def test_new_comments_count_on_the_step_they_are_on(web: Any, members: Any, ben: Any, morning: Any) -> None:
    plan = members
    morning(0)
    web.get(f"/plans/{plan.id}/steps/team")
    goal = store.load_doc(plan)["goals"][0]
    for body in ("Is this still the first goal?", "And who decided?"):
        said = comments.add_comment(plan, ben, body, entity="goal", key=goal["key"])
        _backdate(Comment, "created_at", said.id, morning(10))
    morning(90)
    page = web.get(f"/plans/{plan.id}/steps/team").get_data(as_text=True)
    assert _badge(page, "goals") == "2" and _badge(page, "team") is None
    page = web.get(f"/plans/{plan.id}/steps/goals").get_data(as_text=True)
    assert "Ben Brown commented twice." in html.unescape(page)
