"""No silent overwrite: two people editing at once, through HTTP with two logged-in clients.

Every edit form carries the version it was opened on. Edits of different items, or of different
fields of one item, both go through; the same field changed by both is never overwritten: the
second person sees both versions and chooses. An item deleted while someone edits it gives
them a clear message, with their text kept. The merge rules are tested as plain functions first.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from planner.plans.models import Change
from planner.plans.store.merging import state_at, three_way

SEGMENT = ENTITY_BY_NAME["segment"]


# ---------------------------------------------------------------- the rules


def test_fields_changed_on_one_side_only_merge() -> None:
    base = {"name": "Parents", "priority": "secondary", "venues": []}
    mine = {"name": "Parents", "priority": "primary", "venues": []}
    theirs = {"name": "New parents", "priority": "secondary", "venues": []}
    merge = three_way(base, mine, theirs, ["name", "priority", "venues"])
    assert merge.clean and merge.apply == {"priority": "primary"} and merge.theirs == ("name",)


def test_the_same_field_changed_on_both_sides_conflicts_unless_both_agree() -> None:
    base = {"name": "Parents", "venues": []}
    merge = three_way(
        base,
        {"name": "Mums and dads", "venues": ["Forum"]},
        {"name": "New parents", "venues": ["Forum"]},
        ["name", "venues"],
    )
    assert merge.conflicts == ("name",) and merge.same == ("venues",) and not merge.clean


def test_an_item_is_rebuilt_as_it_was_from_the_changes_after_it() -> None:
    now = {"name": "C", "priority": "primary", "venues": ["x"]}
    later = [
        ({"name": "A", "priority": None, "venues": []}, {"name": "B", "priority": None, "venues": []}),
        ({"name": "B", "priority": None, "venues": []}, {"name": "C", "priority": "primary", "venues": []}),
        ({"name": "C", "priority": "primary", "venues": []}, {"name": "C", "priority": "primary", "venues": ["x"]}),
    ]
    assert state_at(now, later) == {"name": "A", "priority": None, "venues": []}
    deleted_and_restored = [({"name": "A", "priority": None, "venues": []}, None), (None, now)]
    assert state_at(now, deleted_and_restored) == {"name": "A", "priority": None, "venues": []}


# ---------------------------------------------------------------- two people at once


@pytest.fixture
def plan_id(ctx: Any, ana: Any, ben: Any, add_member: Any) -> int:
    plan = store.create_plan("Library plan", actor=ana)
    store.add_item(plan, SEGMENT, {"name": "New parents", "priority": "secondary"}, actor=ana)
    store.add_item(plan, SEGMENT, {"name": "Retirees"}, actor=ana)
    add_member(plan, ana, "facilitator")
    add_member(plan, ben, "editor")
    db.session.remove()
    return plan.id


@pytest.fixture
def ana_web(as_user: Any, ana: Any) -> Any:
    return as_user(ana)


@pytest.fixture
def ben_web(as_user: Any, ben: Any) -> Any:
    return as_user(ben)


def open_form(web: Any, plan_id: int, key: str) -> dict[str, str]:
    """Open a segment's edit form, as the Edit button does; returns what it would send."""
    html = web.get(f"/plans/{plan_id}/items/segment/{key}/edit?fragment=1").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', html).group(1)
    name = re.search(rf'name="segment-{key}-name"[^>]*value="([^"]*)"', html).group(1)
    priority = re.search(r'<option selected value="([^"]*)"', html)
    return {
        "base_version": base,
        f"segment-{key}-name": name,
        f"segment-{key}-priority": priority.group(1) if priority else "",
    }


def save(web: Any, plan_id: int, key: str, form: dict[str, str], **changes: str) -> Any:
    data = dict(form)
    data.update({f"segment-{key}-{name}": value for name, value in changes.items()})
    return web.post(f"/plans/{plan_id}/items/segment/{key}", data)


def segment(plan_id: int, key: str) -> dict[str, Any]:
    db.session.remove()
    return next(s for s in store.load_doc(store.get_plan(plan_id))["segments"] if s["key"] == key)


def test_edit_forms_carry_the_version_they_were_opened_on(ana_web: Any, plan_id: int) -> None:
    assert open_form(ana_web, plan_id, "s1")["base_version"] == "1"
    page = ana_web.get(f"/plans/{plan_id}/items/segment/s1/edit").get_data(as_text=True)
    assert 'name="base_version" value="1"' in page
    step = ana_web.get(f"/plans/{plan_id}/steps/starting-point").get_data(as_text=True)
    assert re.search(r'class="fields-form"[^>]*>\s*<input type="hidden" name="base_version" value="1">', step)


def test_two_edits_to_different_items_both_go_through(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s2")
    assert save(ana_web, plan_id, "s1", anas, name="Young parents").status_code == 302
    assert save(ben_web, plan_id, "s2", bens, name="Retired neighbours").status_code == 302
    assert segment(plan_id, "s1")["name"] == "Young parents"
    assert segment(plan_id, "s2")["name"] == "Retired neighbours"


def test_two_edits_to_different_fields_of_one_item_both_go_through(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s1")
    assert save(ana_web, plan_id, "s1", anas, name="Young parents").status_code == 302
    response = save(ben_web, plan_id, "s1", bens, priority="primary", venues="Parents' forum")
    assert response.status_code == 302
    message = ben_web.get(response.location).get_data(as_text=True)
    assert "Audience segment saved. Ana Alvarez had changed name meanwhile: their changes are kept too." in message
    saved = segment(plan_id, "s1")
    assert (saved["name"], saved["priority"], saved["venues"]) == ("Young parents", "primary", ["Parents' forum"])


def test_the_same_field_changed_by_two_people_is_not_overwritten(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s1")
    assert save(ana_web, plan_id, "s1", anas, name="Young parents").status_code == 302
    response = save(ben_web, plan_id, "s1", bens, name="Parents of toddlers", priority="primary")
    assert response.status_code == 409
    assert segment(plan_id, "s1")["name"] == "Young parents", "Ana's save stands"
    html = response.get_data(as_text=True)
    assert "Ana Alvarez saved audience segment “Young parents” while you were editing" in html
    # Ben's text is kept in the form; Ana's version is beside it, with who and when.
    assert re.search(r'name="segment-s1-name"[^>]*value="Parents of toddlers"', html)
    assert re.search(r'<div class="their-value">(<[^>]+>)*Young parents', html)
    assert "Ana Alvarez\u2019s version, saved" in html
    assert '<option selected value="primary">' in html, "a field only Ben changed keeps his value"
    assert 'name="base_version" value="2"' in html

    # Sending the form again, keeping his version, saves it: he has seen Ana's.
    resent = dict(re.findall(r'name="(segment-s1-[a-z_]+)"[^>]*value="([^"]*)"', html))
    resent.update({"base_version": "2", "segment-s1-priority": "primary", "take-name": "mine"})
    assert ben_web.post(f"/plans/{plan_id}/items/segment/s1", resent).status_code == 302
    saved = segment(plan_id, "s1")
    assert (saved["name"], saved["priority"]) == ("Parents of toddlers", "primary")


def test_on_a_conflict_each_field_can_keep_the_other_version(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s1")
    save(ana_web, plan_id, "s1", anas, name="Young parents", priority="primary")
    response = save(ben_web, plan_id, "s1", bens, name="Parents of toddlers", barriers="No time")
    assert response.status_code == 409
    new_base = re.search(r'name="base_version" value="(\d+)"', response.get_data(as_text=True)).group(1)
    resent = {**bens, "base_version": new_base, "segment-s1-priority": "primary", "take-name": "theirs"}
    resent.update({"segment-s1-name": "Parents of toddlers", "segment-s1-barriers": "No time"})
    assert ben_web.post(f"/plans/{plan_id}/items/segment/s1", resent).status_code == 302
    saved = segment(plan_id, "s1")
    assert (saved["name"], saved["priority"], saved["barriers"]) == ("Young parents", "primary", "No time")


def test_on_a_conflict_my_changes_can_be_dropped(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s1")
    save(ana_web, plan_id, "s1", anas, name="Young parents")
    assert save(ben_web, plan_id, "s1", bens, name="Parents of toddlers").status_code == 409
    response = ben_web.post(f"/plans/{plan_id}/items/segment/s1", {**bens, "resolution": "discard"})
    assert response.status_code == 302
    assert "your changes were dropped" in ben_web.get(response.location).get_data(as_text=True)
    assert segment(plan_id, "s1")["name"] == "Young parents"


def test_a_save_between_the_conflict_page_and_the_choice_is_not_overwritten_either(
    ana_web: Any, ben_web: Any, plan_id: int
) -> None:
    anas, bens = open_form(ana_web, plan_id, "s1"), open_form(ben_web, plan_id, "s1")
    save(ana_web, plan_id, "s1", anas, name="Young parents")
    conflict = save(ben_web, plan_id, "s1", bens, name="Parents of toddlers")
    new_base = re.search(r'name="base_version" value="(\d+)"', conflict.get_data(as_text=True)).group(1)
    save(ana_web, plan_id, "s1", open_form(ana_web, plan_id, "s1"), name="Parents, young and old")
    again = save(ben_web, plan_id, "s1", {**bens, "base_version": new_base}, name="Parents of toddlers")
    assert again.status_code == 409
    assert segment(plan_id, "s1")["name"] == "Parents, young and old"


def test_an_item_deleted_while_someone_edits_it(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    bens = open_form(ben_web, plan_id, "s1")
    assert ana_web.post(f"/plans/{plan_id}/items/segment/s1/delete", {"confirm": "yes"}).status_code == 302
    response = save(ben_web, plan_id, "s1", bens, name="Parents of toddlers", barriers="No time at all")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert re.search(
        r"Audience segment “New parents” was deleted by Ana Alvarez at <time [^>]+>\d+ \w+ \d{4}, \d\d:\d\d UTC</time>",
        html,
    )
    # His text is kept, in a form that adds it as a new item.
    assert f'action="/plans/{plan_id}/items/segment/new"' in html
    assert re.search(r'name="new-segment-name"[^>]*value="Parents of toddlers"', html)
    assert "No time at all</textarea>" in html
    recreated = ben_web.post(
        f"/plans/{plan_id}/items/segment/new",
        {"new-segment-name": "Parents of toddlers", "new-segment-barriers": "No time at all"},
    )
    assert recreated.status_code == 302
    db.session.remove()
    names = [s["name"] for s in store.load_doc(store.get_plan(plan_id))["segments"]]
    assert names == ["Retirees", "Parents of toddlers"]


def test_an_item_that_never_existed_is_not_found(ben_web: Any, plan_id: int) -> None:
    assert ben_web.post(f"/plans/{plan_id}/items/segment/s99", {"segment-s99-name": "X"}).status_code == 404


def test_the_plans_own_fields_merge_and_conflict_the_same_way(ana_web: Any, ben_web: Any, plan_id: int) -> None:
    url = f"/plans/{plan_id}/steps/starting-point"
    base = re.search(r'name="base_version" value="(\d+)"', ana_web.get(url).get_data(as_text=True)).group(1)
    form = {"base_version": base, "plan-title": "Library plan", "plan-organization": "", "plan-mission": ""}
    assert ana_web.post(url, {**form, "plan-organization": "Eastside Tool Library"}).status_code == 302
    assert ben_web.post(url, {**form, "plan-mission": "Lend tools."}).status_code == 302
    db.session.remove()
    plan = store.get_plan(plan_id)
    assert (plan.organization, plan.mission) == ("Eastside Tool Library", "Lend tools.")

    response = ben_web.post(url, {**form, "plan-organization": "The Tool Library"})
    assert response.status_code == 409
    assert "saved the answers of Starting point while you were editing" in response.get_data(as_text=True)
    db.session.remove()
    assert store.get_plan(plan_id).organization == "Eastside Tool Library"


def test_a_form_sent_back_with_errors_keeps_the_version_it_was_based_on(
    ana_web: Any, ben_web: Any, plan_id: int
) -> None:
    bens = open_form(ben_web, plan_id, "s1")
    save(ana_web, plan_id, "s1", open_form(ana_web, plan_id, "s1"), name="Young parents")
    failed = save(ben_web, plan_id, "s1", bens, name="")
    assert failed.status_code == 422
    assert re.search(
        r'data-autosave-returned="\d+/segment-s1">\s*<input type="hidden" name="base_version" value="1">',
        failed.get_data(as_text=True),
    )


def test_an_edit_without_a_version_still_saves(ana_web: Any, plan_id: int) -> None:
    assert ana_web.post(f"/plans/{plan_id}/items/segment/s1", {"segment-s1-name": "Parents"}).status_code == 302
    assert segment(plan_id, "s1")["name"] == "Parents"


def test_two_saves_racing_on_the_same_version_never_lose_one(app: Any, plan_id: int, ana: Any, ben: Any) -> None:
    """Two requests read version 1 at the same moment; the ORM refuses the slower write, which is
    then retried and merged. Simulated by saving in between the read and the write."""
    plan = store.get_plan(plan_id)
    obj = store.get_item(plan, SEGMENT, "s1")
    assert obj.version == 1
    with app.app_context():  # another process
        other = store.get_plan(plan_id)
        store.update_item(other, SEGMENT, "s1", {"name": "Young parents"}, actor=ana, base_version=1)
        db.session.remove()
    saved = store.update_item(plan, SEGMENT, "s1", {"priority": "primary"}, actor=ben, base_version=1)
    assert saved.merged
    assert (segment(plan_id, "s1")["name"], segment(plan_id, "s1")["priority"]) == ("Young parents", "primary")


def test_a_rename_carries_its_version_too(ana_web: Any, plan_id: int, ben: Any) -> None:
    page = ana_web.get(f"/plans/{plan_id}/rename").get_data(as_text=True)
    base = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    store.update_plan_fields(store.get_plan(plan_id), {"title": "Tool library plan"}, actor=ben)
    db.session.remove()
    response = ana_web.post(f"/plans/{plan_id}/rename", {"title": "Library plan 2027", "base_version": base})
    assert response.status_code == 409
    assert "Ben Brown renamed the plan to “Tool library plan”" in response.get_data(as_text=True)
    assert store.get_plan(plan_id).title == "Tool library plan"
    again = re.search(r'name="base_version" value="(\d+)"', response.get_data(as_text=True)).group(1)
    renamed = ana_web.post(f"/plans/{plan_id}/rename", {"title": "Library plan 2027", "base_version": again})
    assert renamed.status_code == 302
    db.session.remove()
    assert store.get_plan(plan_id).title == "Library plan 2027"


# ---------------------------------------------------------------- found by bench/team_load.py


def test_saving_a_form_keeps_its_checkboxes_in_the_saved_order(ana_web: Any, ana: Any, plan_id: int) -> None:
    """Checkboxes come back in the form's order: that alone is no change, and no conflict."""
    store.update_item(store.get_plan(plan_id), SEGMENT, "s1", {"participation": ["inactives", "joiners"]}, actor=ana)
    form = {**open_form(ana_web, plan_id, "s1"), "segment-s1-participation": ["joiners", "inactives"]}
    assert save(ana_web, plan_id, "s1", form, name="Young parents").status_code == 302
    db.session.remove()
    last = db.session.scalars(select(Change).where(Change.plan_id == plan_id).order_by(Change.id.desc())).first()
    assert last.summary == "Edited audience segment “Young parents”: name"
    assert segment(plan_id, "s1")["participation"] == ["inactives", "joiners"]


def test_a_save_made_while_an_edit_form_is_drawn_is_not_undone_by_it(
    ana_web: Any, ben: Any, plan_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The edit form reads its item (and its choices) with `store.form_doc`, after the version.
    form_doc = store.form_doc

    def load_then_ben_saves(*args: Any) -> dict[str, Any]:
        doc = form_doc(*args)
        monkeypatch.setattr(store, "form_doc", form_doc)
        store.update_item(store.get_plan(plan_id), SEGMENT, "s1", {"priority": "primary"}, actor=ben)
        return doc

    monkeypatch.setattr(store, "form_doc", load_then_ben_saves)
    form = open_form(ana_web, plan_id, "s1")
    assert save(ana_web, plan_id, "s1", form, name="Young parents").status_code == 302
    saved = segment(plan_id, "s1")
    assert (saved["name"], saved["priority"]) == ("Young parents", "primary")


def test_step_pages_show_every_save_though_their_parts_are_kept(ana_web: Any, plan_id: int) -> None:
    """What `planner.plans.cached` keeps of a plan never shows an old document on a step page."""
    assert "Retirees" in ana_web.get(f"/plans/{plan_id}/steps/audiences").get_data(as_text=True)
    form = open_form(ana_web, plan_id, "s2")
    assert save(ana_web, plan_id, "s2", form, name="Retired neighbours").status_code == 302
    page = ana_web.get(f"/plans/{plan_id}/steps/audiences").get_data(as_text=True)
    assert "Retired neighbours" in page and "Retirees" not in page


def test_two_people_adding_at_once_both_keep_their_item(ana_web: Any, plan_id: int, monkeypatch: Any) -> None:
    """Both pick the next free key; the one who writes second takes the key after it."""
    next_key = store.next_key
    picked: list[str] = []

    def as_if_someone_took_it(plan_id: int, entity: Any) -> str:
        picked.append("s2" if not picked else next_key(plan_id, entity))
        return picked[-1]

    monkeypatch.setattr(store.writing, "next_key", as_if_someone_took_it)
    response = ana_web.post(f"/plans/{plan_id}/items/segment/new", {"new-segment-name": "Teachers"})
    assert response.status_code == 302 and picked == ["s2", "s3"]
    assert [s["name"] for s in store.load_doc(store.get_plan(plan_id))["segments"]] == [
        "New parents",
        "Retirees",
        "Teachers",
    ]
