"""The workshop's service layer, called as plain functions on a real database."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from planner.extensions import db
from planner.models import ITEM_MODELS
from planner.plans.models import Change
from planner.workshop import export, state
from planner.workshop import operations as ops
from planner.workshop.models import Idea, Participant, Vote, WorkshopSession, WorkshopStep
from planner.workshop.rules import WorkshopError


@pytest.fixture
def ws(example_plan: Any, owner: Any) -> WorkshopSession:
    return ops.start_session(example_plan, owner, "audiences")


@pytest.fixture
def ana(ws: WorkshopSession) -> Participant:
    return ops.join(ws, "Ana")


@pytest.fixture
def ben(ws: WorkshopSession) -> Participant:
    return ops.join(ws, "Ben")


def room(ws: WorkshopSession) -> dict[str, Any]:
    return json.loads(state.payload(ws, "room"))["view"]


def test_a_session_starts_on_a_step_with_a_fresh_code_and_every_step_ready(ws: WorkshopSession) -> None:
    assert ws.step == "audiences"
    assert len(ws.code) == 8
    steps = db.session.scalars(select(WorkshopStep).where(WorkshopStep.session_id == ws.id)).all()
    assert len(steps) == 9
    assert all(s.anonymous and not s.private and s.voting == "none" for s in steps)


def test_every_change_moves_the_revision_on(ws: WorkshopSession, ana: Participant) -> None:
    before = ws.revision
    ops.add_idea(ws, ana, "audiences", "Parents")
    ops.move_room(ws, "listening")
    ops.start_timer(ws, 5)
    assert ws.revision == before + 3


def test_members_join_once_as_themselves(ws: WorkshopSession, owner: Any) -> None:
    first = ops.join(ws, None, owner)
    again = ops.join(ws, "Someone else", owner)
    assert first.id == again.id
    assert first.name == "Fay Facilitator"
    assert first.user_id == owner.id


def test_ideas_are_numbered_in_the_session_and_land_on_the_step_they_were_written_for(
    ws: WorkshopSession, ana: Participant
) -> None:
    one = ops.add_idea(ws, ana, "audiences", "Parents on the east side")
    ops.move_room(ws, "listening")
    # A draft started on Audiences, finished after the room moved on.
    two = ops.add_idea(ws, ana, "audiences", "Renters on Quay Street")
    three = ops.add_idea(ws, None, "listening", "The parents' group", written_for="Gran")
    assert (one.number, two.number, three.number) == (1, 2, 3)
    assert two.step == "audiences"
    assert three.written_for == "Gran" and three.participant_id is None


def test_dot_voting_end_to_end(ws: WorkshopSession, ana: Participant, ben: Participant) -> None:
    a = ops.add_idea(ws, ana, "audiences", "Parents").number
    b = ops.add_idea(ws, ben, "audiences", "Renters").number
    with pytest.raises(WorkshopError, match="not open"):
        ops.place_dot(ws, ana, a, 1)
    ops.open_voting(ws, "audiences", dots=3, per_idea=2)
    ops.place_dot(ws, ana, a, 1)
    ops.place_dot(ws, ana, a, 1)
    with pytest.raises(WorkshopError, match="At most 2"):
        ops.place_dot(ws, ana, a, 1)
    ops.place_dot(ws, ana, b, 1)
    with pytest.raises(WorkshopError, match="all your dots"):
        ops.place_dot(ws, ana, b, 1)
    # Moving a dot: take one back, put it elsewhere.
    ops.place_dot(ws, ana, a, -1)
    ops.place_dot(ws, ana, b, 1)
    ops.place_dot(ws, ben, b, 1)
    assert {i["n"]: i["votes"] for i in room(ws)["ideas"]} == {a: None, b: None}  # hidden while open
    ops.close_voting(ws, "audiences")
    assert {i["n"]: i["votes"] for i in room(ws)["ideas"]} == {a: 1, b: 3}
    with pytest.raises(WorkshopError, match="not open"):
        ops.place_dot(ws, ana, a, -1)


def test_reopening_with_fewer_dots_takes_back_what_no_longer_fits(ws: WorkshopSession, ana: Participant) -> None:
    a = ops.add_idea(ws, ana, "audiences", "Parents").number
    b = ops.add_idea(ws, ana, "audiences", "Renters").number
    ops.open_voting(ws, "audiences", dots=4, per_idea=2)
    for n in (a, a, b, b):
        ops.place_dot(ws, ana, n, 1)
    ops.close_voting(ws, "audiences")
    ops.open_voting(ws, "audiences", dots=2, per_idea=1)
    assert sum(v.dots for v in db.session.scalars(select(Vote))) == 2


def test_opening_voting_reveals_private_ideas(ws: WorkshopSession, ana: Participant) -> None:
    ops.configure_step(ws, "audiences", anonymous=False, private=True)
    ops.add_idea(ws, ana, "audiences", "Parents")
    assert room(ws)["ideas"] == []
    ops.open_voting(ws, "audiences", dots=3, per_idea=1)
    assert [(i["text"], i["author"]) for i in room(ws)["ideas"]] == [("Parents", "Ana")]


def test_reveal_shows_private_ideas(ws: WorkshopSession, ana: Participant) -> None:
    ops.configure_step(ws, "audiences", anonymous=True, private=True)
    ops.add_idea(ws, ana, "audiences", "Parents")
    assert room(ws)["ideas"] == []
    ops.reveal(ws, "audiences")
    assert [i["text"] for i in room(ws)["ideas"]] == ["Parents"]


def test_hiding_an_idea_removes_it_and_gives_its_dots_back(ws: WorkshopSession, ana: Participant) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Buy followers").number
    ops.open_voting(ws, "audiences", dots=1, per_idea=1)
    ops.place_dot(ws, ana, n, 1)
    ops.hide_idea(ws, n)
    assert room(ws)["ideas"] == []
    assert db.session.scalars(select(Vote)).all() == []
    with pytest.raises(WorkshopError, match="not up for voting"):
        ops.place_dot(ws, ana, n, 1)
    ops.hide_idea(ws, n, hidden=False)
    assert [i["n"] for i in room(ws)["ideas"]] == [n]


def test_the_facilitator_edits_a_card_or_moves_it_to_another_step(ws: WorkshopSession, ana: Participant) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Parnets").number
    ops.edit_idea(ws, n, "Parents", "listening")
    idea = db.session.scalar(select(Idea).where(Idea.number == n))
    assert (idea.text, idea.step) == ("Parents", "listening")


def test_grouping(ws: WorkshopSession, ana: Participant) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Parents").number
    group = ops.add_group(ws, "audiences", "Families")
    other = ops.add_group(ws, "listening", "Forums")
    ops.set_group(ws, n, group.id)
    assert room(ws)["ideas"][0]["group"] == group.id
    assert [g["label"] for g in room(ws)["groups"]] == ["Families", "Forums"]
    with pytest.raises(WorkshopError, match="no such group"):
        ops.set_group(ws, n, other.id)
    ops.delete_group(ws, group.id)
    assert room(ws)["ideas"][0]["group"] is None


def test_renaming_a_group_reaches_every_screen_and_bad_names_change_nothing(
    ws: WorkshopSession, ana: Participant
) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Parents").number
    group = ops.add_group(ws, "audiences", "Famlies")
    ops.set_group(ws, n, group.id)
    before = ws.revision
    ops.rename_group(ws, group.id, "  Families   with  toddlers ")
    assert ws.revision > before  # every open screen is told
    assert room(ws)["groups"] == [{"id": group.id, "step": "audiences", "label": "Families with toddlers"}]
    assert room(ws)["ideas"][0]["group"] == group.id  # the cards stay in it

    revision = ws.revision
    for label, message in (("   ", "Write a group name first"), ("x" * 81, "at most 80 characters")):
        with pytest.raises(WorkshopError, match=message):
            ops.rename_group(ws, group.id, label)
    db.session.expire_all()
    assert ws.revision == revision
    assert room(ws)["groups"][0]["label"] == "Families with toddlers"
    with pytest.raises(WorkshopError, match="no such group"):
        ops.rename_group(ws, group.id + 1, "Elsewhere")


def test_promoting_an_idea_makes_a_plan_item_and_records_where_it_came_from(
    ws: WorkshopSession, ana: Participant, example_plan: Any, owner: Any
) -> None:
    ops.move_room(ws, "engagement")
    n = ops.add_idea(ws, ana, "engagement", "Staff fear a public row on the page").number
    with pytest.raises(WorkshopError, match="cannot become"):
        ops.promote(ws, n, "segment", owner)
    entity, key = ops.promote(ws, n, "concern", owner)
    item = db.session.scalar(select(ITEM_MODELS["concern"]).where(ITEM_MODELS["concern"].key == key))
    assert entity == "concern" and item.concern == "Staff fear a public row on the page"
    change = db.session.scalar(select(Change).where(Change.item_key == key, Change.entity == "concern"))
    assert change.source == f"workshop {ws.code}, idea #{n}"
    assert change.user_id == owner.id
    promoted = json.loads(state.payload(ws, "facilitator"))["view"]["ideas"][0]["promoted"]
    assert promoted == {"entity": "concern", "key": key, "label": "Concern"}
    with pytest.raises(WorkshopError, match="already in the plan"):
        ops.promote(ws, n, "practice", owner)


def test_an_objective_gets_the_plans_first_goal_to_be_changed_on_its_edit_form(
    ws: WorkshopSession, ana: Participant, owner: Any
) -> None:
    n = ops.add_idea(ws, ana, "goals", "Be the repair helpdesk " + "x" * 250).number
    _, key = ops.promote(ws, n, "objective", owner)
    objective = db.session.scalar(select(ITEM_MODELS["objective"]).where(ITEM_MODELS["objective"].key == key))
    assert objective.goal_id is not None
    assert objective.statement == "Be the repair helpdesk…"  # cut between words, not inside the x's


def test_a_long_card_becomes_an_item_whose_title_is_cut_between_words(
    ws: WorkshopSession, ana: Participant, owner: Any
) -> None:
    words = "Answer every neighbour who asks about Saturday repair sessions " * 4
    n = ops.add_idea(ws, ana, "goals", words.strip()).number
    _, key = ops.promote(ws, n, "objective", owner)
    objective = db.session.scalar(select(ITEM_MODELS["objective"]).where(ITEM_MODELS["objective"].key == key))
    assert len(objective.statement) <= 200 < len(words.strip())
    kept = objective.statement.removesuffix("…").split()
    assert kept == words.split()[: len(kept)], "the title ends on a whole word, as written"


def test_ending_a_session_stops_its_code_and_every_change_but_keeps_its_ideas(
    ws: WorkshopSession, ana: Participant
) -> None:
    ops.add_idea(ws, ana, "audiences", "Parents")
    ops.end_session(ws)
    with pytest.raises(WorkshopError, match="ended"):
        ops.join(ws, "Late Larry")
    with pytest.raises(WorkshopError, match="ended"):
        ops.add_idea(ws, ana, "audiences", "One more")
    with pytest.raises(WorkshopError, match="ended"):
        ops.promote(ws, 1, "segment")
    assert room(ws)["ended"] is True
    assert [i["text"] for i in room(ws)["ideas"]] == ["Parents"]


def test_an_old_code_stops_letting_people_in(ws: WorkshopSession) -> None:
    ws.created_at -= timedelta(days=4)
    db.session.commit()
    with pytest.raises(WorkshopError, match="ended"):
        ops.join(ws, "Late Larry")


def test_exports_escape_formulas_and_keep_results_hidden_until_voting_closes(
    ws: WorkshopSession, ana: Participant
) -> None:
    ops.configure_step(ws, "audiences", anonymous=False, private=False)
    a = ops.add_idea(ws, ana, "audiences", '=HYPERLINK("http://evil")').number
    ops.add_idea(ws, ana, "audiences", "Renters *on* Quay Street")
    ops.open_voting(ws, "audiences", dots=2, per_idea=2)
    ops.place_dot(ws, ana, a, 1)
    rows = list(csv.DictReader(io.StringIO(export.to_csv(state.snapshot(ws), {}))))
    assert rows[0]["text"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["author"] == "Ana" and rows[0]["votes"] == "" and rows[0]["step"] == "Audiences"
    ops.close_voting(ws, "audiences")
    rows = list(csv.DictReader(io.StringIO(export.to_csv(state.snapshot(ws), {}))))
    assert [r["votes"] for r in rows] == ["1", "0"]
    markdown = export.to_markdown(state.snapshot(ws), {})
    assert "## 3. Audiences" in markdown
    assert "- #2 Renters \\*on\\* Quay Street" in markdown
    assert "(1 dot; Ana)" in markdown and "(0 dots; Ana)" in markdown
    assert "1 dots" not in markdown


def test_the_state_is_read_with_a_fixed_number_of_queries(ws: WorkshopSession, ana: Participant) -> None:
    from sqlalchemy import event

    def count_queries() -> int:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            state.load_snapshot(ws)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    few = count_queries()
    for i in range(20):
        ops.add_idea(ws, ana, "audiences", f"Idea {i}")
    ops.add_group(ws, "audiences", "A group")
    assert count_queries() == few


def test_a_group_name_a_step_already_has_is_refused_whatever_its_case_and_nothing_changes(
    ws: WorkshopSession,
) -> None:
    forums = ops.add_group(ws, "audiences", "Forums")
    ops.add_group(ws, "listening", "Forums")  # another step may have its own
    revision = ws.revision
    for same in ("Forums", "  forums ", "FORUMS"):
        with pytest.raises(WorkshopError, match="This step already has a group called “Forums”"):
            ops.add_group(ws, "audiences", same)
    families = ops.add_group(ws, "audiences", "Families")
    revision = ws.revision
    with pytest.raises(WorkshopError, match="already has a group called “Forums”"):
        ops.rename_group(ws, families.id, "forums")
    db.session.expire_all()
    assert ws.revision == revision
    assert [g["label"] for g in room(ws)["groups"]] == ["Forums", "Forums", "Families"]
    ops.rename_group(ws, forums.id, "FORUMS")  # its own name in another case is fine
    assert room(ws)["groups"][0]["label"] == "FORUMS"


def test_ending_closes_an_open_vote_and_the_summary_says_what_the_session_came_to(
    ws: WorkshopSession, ana: Participant, ben: Participant, owner: Any
) -> None:
    a = ops.add_idea(ws, ana, "audiences", "Parents at the school gate").number
    b = ops.add_idea(ws, ben, "audiences", "Night-shift nurses").number
    spam = ops.add_idea(ws, ben, "audiences", "Buy followers").number
    ops.hide_idea(ws, spam)
    _, key = ops.promote(ws, a, "segment", owner)
    segment = ITEM_MODELS["segment"]
    item = db.session.scalar(select(segment).where(segment.key == key))
    item.name = "Parents of under-fives"  # renamed in the plan afterwards
    db.session.commit()
    ops.open_voting(ws, "audiences", dots=2, per_idea=2)
    ops.place_dot(ws, ana, a, 1)
    ops.place_dot(ws, ben, a, 1)
    ops.place_dot(ws, ben, b, 1)
    ops.end_session(ws)  # voting still open: ending closes it, so the dots count

    assert room(ws)["steps"][2]["voting"] == "closed"
    done = state.summary(ws)
    assert (done["people"], done["ideas"], done["hidden"], done["dots"], done["voters"]) == (2, 2, 1, 3, 2)
    assert [(p["label"], p["name"]) for p in done["promoted"]] == [("Audience segment", "Parents of under-fives")]
    assert [(i["n"], i["votes"]) for i in done["steps"][0]["ideas"]] == [(a, 2), (b, 1)]


def test_exports_name_plan_items_by_their_names_and_count_in_words(
    ws: WorkshopSession, ana: Participant, owner: Any
) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Parents at the school gate").number
    _, key = ops.promote(ws, n, "segment", owner)
    ops.open_voting(ws, "audiences", dots=1, per_idea=1)
    ops.place_dot(ws, ana, n, 1)
    ops.close_voting(ws, "audiences")
    snap = state.snapshot(ws)
    names = state.item_names(ws.plan_id, snap.ideas)
    [row] = list(csv.DictReader(io.StringIO(export.to_csv(snap, names))))
    assert row["became"] == "Audience segment: Parents at the school gate"
    markdown = export.to_markdown(snap, names)
    assert "1 person took part." in markdown
    assert "Voting closed (1 dot each, at most 1 per idea)." in markdown
    assert "(1 dot; became Audience segment: Parents at the school gate)" in markdown
    assert "- Audience segment: Parents at the school gate (from idea #1, Audiences)" in markdown
    for text in (export.to_csv(snap, names), markdown):
        assert key not in text.replace(ws.code, "")  # the item's key is nowhere

    # An item deleted from the plan since is said to be gone, not named by a key.
    segment = ITEM_MODELS["segment"]
    db.session.delete(db.session.scalar(select(segment).where(segment.key == key)))
    db.session.commit()
    [row] = list(csv.DictReader(io.StringIO(export.to_csv(snap, state.item_names(ws.plan_id, snap.ideas)))))
    assert row["became"] == "Audience segment, since removed from the plan"
