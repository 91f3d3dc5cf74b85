"""The workshop's rules as plain functions: codes, limits, dot voting, the timer, who sees what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from planner.plans.view import counted
from planner.workshop import rules
from planner.workshop.rules import WorkshopError

NOW = datetime(2026, 11, 28, 10, 0, 0)


def test_codes_are_eight_unambiguous_characters_and_differ() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 8
        assert not set(code) & set("01ILO")


def test_a_code_may_be_typed_in_any_case_with_spaces_or_a_dash() -> None:
    assert rules.normalize_code("abcd efgh") == "ABCDEFGH"
    assert rules.normalize_code(" ABCD-EFGH ") == "ABCDEFGH"
    assert rules.normalize_code("ABCDEFG") is None
    assert rules.normalize_code("ABCDEFG1") is None  # 1 is never in a code
    assert rules.normalize_code(None) is None
    assert rules.spaced("ABCDEFGH") == "ABCD EFGH"


def test_a_code_expires_when_the_session_ends_or_grows_old() -> None:
    assert rules.code_is_live(NOW, None, NOW + timedelta(hours=5))
    assert not rules.code_is_live(NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=1, seconds=1))
    assert not rules.code_is_live(NOW, None, NOW + rules.CODE_MAX_AGE)


def test_cards_and_names_are_trimmed_and_limited() -> None:
    assert rules.clean_idea("  Listen  in\nthe parents'   group ") == "Listen in the parents' group"
    assert len(rules.clean_idea("x" * 280)) == 280
    with pytest.raises(WorkshopError, match="at most 280"):
        rules.clean_idea("x" * 281)
    with pytest.raises(WorkshopError, match="Write an idea"):
        rules.clean_idea("   ")
    with pytest.raises(WorkshopError, match="at most 60"):
        rules.clean_name("n" * 61)


def vote(**overrides: object) -> None:
    args = {
        "voting": "open",
        "dots": 3,
        "per_idea": 2,
        "used_in_step": 0,
        "on_idea": 0,
        "delta": 1,
        "idea_votable": True,
    }
    args.update(overrides)
    rules.check_dot(**args)  # type: ignore[arg-type]


def test_a_person_places_at_most_n_dots_in_a_step() -> None:
    vote(used_in_step=2)
    with pytest.raises(WorkshopError, match="all your dots"):
        vote(used_in_step=3)


def test_an_idea_takes_at_most_the_limit_from_one_person() -> None:
    vote(on_idea=1)
    with pytest.raises(WorkshopError, match="At most 2 dots on one idea"):
        vote(on_idea=2)


def test_dots_move_by_taking_one_back_while_voting_is_open() -> None:
    vote(delta=-1, on_idea=1, used_in_step=3)
    with pytest.raises(WorkshopError, match="no dot"):
        vote(delta=-1, on_idea=0)


def test_no_dots_before_voting_opens_or_after_it_closes() -> None:
    for state in ("none", "closed"):
        with pytest.raises(WorkshopError, match="not open"):
            vote(voting=state)
        with pytest.raises(WorkshopError, match="not open"):
            vote(voting=state, delta=-1, on_idea=1)


def test_hidden_ideas_take_no_dots() -> None:
    with pytest.raises(WorkshopError, match="not up for voting"):
        vote(idea_votable=False)


def test_voting_settings_are_checked() -> None:
    rules.check_voting_settings(3, 3)
    for dots, per_idea in ((0, 1), (21, 1), (3, 4), (3, 0)):
        with pytest.raises(WorkshopError):
            rules.check_voting_settings(dots, per_idea)


def test_the_timer_is_an_end_time_and_plus_one_minute_extends_it() -> None:
    ends, seconds = rules.timer_start(NOW, 5)
    assert (ends, seconds) == (NOW + timedelta(minutes=5), 300)
    assert rules.timer_remaining(ends, NOW + timedelta(seconds=61)) == 239
    assert rules.timer_add_minute(ends, seconds, NOW + timedelta(minutes=1)) == (NOW + timedelta(minutes=6), 360)
    # On a finished countdown, +1 minute starts a new minute from now.
    later = NOW + timedelta(minutes=9)
    assert rules.timer_add_minute(ends, seconds, later) == (later + timedelta(minutes=1), 60)
    assert rules.timer_remaining(ends, later) == 0
    assert rules.timer_remaining(None, NOW) is None
    with pytest.raises(WorkshopError):
        rules.timer_start(NOW, 0)


def snapshot(*, anonymous: bool = True, private: bool = False, revealed: bool = False, voting: str = "none"):
    step = {
        "anonymous": anonymous,
        "private": private,
        "revealed": revealed,
        "voting": voting,
        "dots": 3,
        "per_idea": 2,
    }
    idea = {
        "group_id": None,
        "written_for": None,
        "promoted_entity": None,
        "promoted_key": None,
        "step": "audiences",
    }
    ideas = [
        {**idea, "id": 10, "number": 1, "text": "Parents", "participant_id": 1, "hidden": False},
        {**idea, "id": 11, "number": 2, "text": "Spam", "participant_id": 2, "hidden": True},
        {**idea, "id": 12, "number": 3, "text": "Renters", "participant_id": 2, "hidden": False},
    ]
    session = {"code": "ABCDEFGH", "step": "audiences", "roam": False, "ended": False}
    return rules.Snapshot(
        session=session,
        steps={"audiences": step},
        participants={1: "Ana", 2: "Ben"},
        groups=[],
        ideas=ideas,
        votes={10: {1: 2, 2: 1}, 12: {1: 1}},
    )


def test_anonymous_steps_show_no_author_to_anyone() -> None:
    snap = snapshot(anonymous=True)
    assert {i["author"] for i in rules.room_view(snap)["ideas"]} == {None}
    assert {i["author"] for i in rules.facilitator_view(snap)["ideas"]} == {None}
    named = snapshot(anonymous=False)
    assert [i["author"] for i in rules.room_view(named)["ideas"]] == ["Ana", "Ben"]


def test_private_ideas_reach_the_room_only_when_revealed_but_their_authors_see_them() -> None:
    hidden = snapshot(private=True)
    assert rules.room_view(hidden)["ideas"] == []
    assert rules.room_view(hidden)["steps"][0]["idea_count"] == 2
    assert [i["text"] for i in rules.personal_view(hidden, 1)["ideas"]] == ["Parents"]
    assert [i["n"] for i in rules.facilitator_view(hidden)["ideas"] if not i["shown"]] == [1, 2, 3]
    revealed = snapshot(private=True, revealed=True)
    assert [i["text"] for i in rules.room_view(revealed)["ideas"]] == ["Parents", "Renters"]


def test_moderated_ideas_leave_the_room_but_not_the_facilitator_or_author() -> None:
    snap = snapshot()
    assert "Spam" not in [i["text"] for i in rules.room_view(snap)["ideas"]]
    assert [i["hidden"] for i in rules.facilitator_view(snap)["ideas"]] == [False, True, False]
    assert [i["hidden"] for i in rules.personal_view(snap, 2)["ideas"]] == [True, False]


def test_results_stay_hidden_until_voting_closes_but_a_person_sees_their_own_dots() -> None:
    open_ = snapshot(voting="open")
    assert {i["votes"] for i in rules.room_view(open_)["ideas"]} == {None}
    assert {i["votes"] for i in rules.facilitator_view(open_)["ideas"]} == {None}
    assert rules.room_view(open_)["steps"][0]["voters"] == 2
    assert rules.personal_view(open_, 1)["votes"] == {"1": 2, "3": 1}
    assert rules.personal_view(open_, 1)["used"] == {"audiences": 3}
    closed = snapshot(voting="closed")
    assert [i["votes"] for i in rules.room_view(closed)["ideas"]] == [3, 1]


def test_numbers_take_the_right_form_of_their_noun() -> None:
    assert [counted(n, "dot") for n in (0, 1, 2)] == ["0 dots", "1 dot", "2 dots"]
    assert counted(1, "person", "people") == "1 person"
    assert counted(3, "person", "people") == "3 people"


def test_a_step_cannot_have_the_same_group_name_twice_whatever_its_case_or_spacing() -> None:
    rules.check_label_free("Forums", ["Families", "Online forums"])
    for same in ("Forums", "forums", "FORUMS"):
        with pytest.raises(WorkshopError, match="This step already has a group called “Forums”"):
            rules.check_label_free(same, ["Families", "Forums"])
    with pytest.raises(WorkshopError, match="“Online  forums”"):
        rules.check_label_free("online forums", ["Online  forums"])


def test_the_summary_counts_ideas_and_dots_and_names_what_went_into_the_plan() -> None:
    snap = _with_plan(snapshot(voting="closed"))
    snap.ideas[0].update(promoted_entity="segment", promoted_key="s7")
    snap.ideas[2].update(promoted_entity="segment", promoted_key="s8")  # deleted from the plan since
    done = rules.summary(snap, {("segment", "s7"): "Parents of toddlers"})
    assert (done["plan"], done["people"], done["ideas"], done["hidden"]) == ("Repair café", 2, 2, 1)
    assert (done["dots"], done["voters"]) == (4, 2)
    assert [(p["label"], p["name"], p["text"]) for p in done["promoted"]] == [
        ("Audience segment", "Parents of toddlers", "Parents"),
        ("Audience segment", None, "Renters"),
    ]
    [step] = done["steps"]
    assert [(i["text"], i["votes"]) for i in step["ideas"]] == [("Parents", 3), ("Renters", 1)]  # most dots first
    assert [(i["text"], i["votes"], i["step"]) for i in done["top"]] == [
        ("Parents", 3, "Audiences"),
        ("Renters", 1, "Audiences"),
    ]
    # Before a vote closes its dots are not counted: the summary never leaks a running vote.
    running = rules.summary(_with_plan(snapshot(voting="open")), {})
    assert (running["dots"], running["voters"], running["top"], running["promoted"]) == (0, 0, [], [])


def _with_plan(snap: rules.Snapshot) -> rules.Snapshot:
    snap.session["plan"] = {"id": 1, "title": "Repair café"}
    return snap
