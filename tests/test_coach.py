"""The coach's checks, score and report, as plain functions of a plan document.

Plans are built as `load_doc` builds them: every declared field present, unset scalars None,
unset lists empty, flags False.  Each threshold is tested just below, at and just above.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.coach import CHECKS, Finding, Status, checks, coach_report, findings_for_step, rules, score, to_json
from planner.domain import ENTITIES, ENTITY_BY_COLLECTION, ENTITY_BY_NAME, PLAN_FIELDS, STEP_BY_SLUG

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "planner" / "interchange" / "example_plan.json"

CHECK_IDS = [
    "strategy_first",
    "listen_first",
    "two_way",
    "amplify_others",
    "many_voices",
    "leaders_take_part",
    "open_access",
    "where_they_talk",
    "real_audiences",
    "capacity",
    "measure_engagement",
    "ready_for_critics",
    "reflect",
    "focus",
]


# ---------------------------------------------------------------- building plans


def item(entity: str, key: str, **values: Any) -> dict[str, Any]:
    """An item with every declared field, as `load_doc` writes it."""
    declared = ENTITY_BY_NAME[entity]
    unknown = set(values) - set(declared.field_names)
    assert not unknown, f"{entity} has no fields {unknown}"
    return {"key": key, **{f.name: f.empty() for f in declared.fields}, **values}


def make_plan(**values: Any) -> dict[str, Any]:
    """A plan document with every plan field and every collection; lists hold finished items."""
    plan: dict[str, Any] = {f.name: f.empty() for f in PLAN_FIELDS}
    plan.update({e.collection: [] for e in ENTITIES})
    unknown = set(values) - set(plan)
    assert not unknown, f"plans have no fields {unknown}"
    plan.update(values)
    return plan


def person(key: str, name: str, hours: float | None = 2, **values: Any) -> dict[str, Any]:
    return item("person", key, name=name, hours_per_week=hours, **values)


def practice(key: str, mode: str | None, hours: float | None, **values: Any) -> dict[str, Any]:
    values.setdefault("description", f"Practice {key}")
    return item("practice", key, mode=mode, hours_per_week=hours, **values)


def segment(key: str, name: str, priority: str | None = "primary", **values: Any) -> dict[str, Any]:
    return item("segment", key, name=name, priority=priority, **values)


def listening(key: str, segments: list[str], listener: str | None = None, **values: Any) -> dict[str, Any]:
    return item("listening_target", key, venue=f"Venue {key}", segments=segments, listener=listener, **values)


def strong_plan() -> dict[str, Any]:
    """A small plan that does everything the coach asks."""
    return make_plan(
        title="Eastside Tool Library: talking with neighbours",
        organization="Eastside Tool Library",
        staff_access="open",
        leadership_participation="active",
        review_cadence="monthly",
        response_protocol="The coordinator answers criticism within a day, in public first, then offline if needed.",
        goals=[item("goal", "g1", statement="More households borrow instead of buying")],
        objectives=[
            item("objective", "o1", goal="g1", statement="Be the place neighbours ask about repairs"),
            item("objective", "o2", goal="g1", statement="Neighbours share their own repair stories"),
        ],
        segments=[
            segment("s1", "New parents on the east side", venues=["Eastside parents group"]),
            segment("s2", "Repair café regulars", priority="secondary", venues=["Café noticeboard"]),
        ],
        people=[
            person("p1", "Ana", 3, is_leader=True),
            person("p2", "Ben", 6),  # pr1 and pr3: 6 h a week
            person("p3", "Chloé", 4),
            person("p4", "Dev", 2),
        ],
        channels=[
            item("channel", "c1", name="Facebook page", status="active", owner="p2"),
            item("channel", "c2", name="Forum thread", status="planned", owner="p3"),
        ],
        listening_targets=[listening("l1", ["s1"], "p1"), listening("l2", ["s2"], "p4")],
        practices=[
            practice("pr1", "respond", 4, objective="o1", owners=["p2"], channels=["c1"]),
            practice("pr2", "amplify", 2, objective="o2", owners=["p3"], channels=["c2"]),
            practice("pr3", "broadcast", 2, objective="o2", owners=["p2"], channels=["c1"]),
            practice("pr4", "listen", 2, objective="o1", owners=["p1"]),
        ],
        concerns=[item("concern", "cn1", concern="Trolls", mitigation="The response protocol covers them.")],
        metrics=[
            item("metric", "m1", objective="o1", name="Repair questions answered", kind="engagement"),
            item("metric", "m2", objective="o2", name="Stories shared", kind="reach"),
        ],
        milestones=[item("milestone", "ms1", title="Pilot starts", owner="p1")],
    )


def with_(plan: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A copy of `plan` with some fields or whole collections replaced."""
    assert set(values) <= set(plan)
    return {**plan, **values}


def run(check_id: str, plan: dict[str, Any]) -> Finding:
    finding = CHECKS[check_id](plan)
    assert finding.id == check_id
    return finding


def team_of(n: int) -> list[dict[str, Any]]:
    return [person(f"p{i}", f"Person {i}", 10) for i in range(1, n + 1)]


# ---------------------------------------------------------------- the whole report


def test_the_fourteen_checks_in_order():
    assert list(CHECKS) == CHECK_IDS
    assert [f.id for f in coach_report(make_plan()).checks] == CHECK_IDS


def test_every_check_has_a_weight_and_a_title():
    assert set(rules.WEIGHTS) == set(CHECK_IDS)
    assert all(w > 0 for w in rules.WEIGHTS.values())
    assert all(checks.TITLES[i] for i in CHECK_IDS)


def test_an_empty_plan_passes_no_check_and_scores_low():
    report = coach_report(make_plan())
    assert all(f.status is not Status.PASS for f in report.checks)
    assert report.score <= 10


def test_even_a_bare_dict_is_judged_without_errors():
    report = coach_report({})
    assert report.score <= 10
    assert all(f.status is not Status.PASS for f in report.checks)


def test_a_strong_plan_passes_everything_and_scores_100():
    report = coach_report(strong_plan())
    assert {f.id: f.status.value for f in report.checks} == dict.fromkeys(CHECK_IDS, "pass")
    assert report.score == 100
    assert all(f.next_step == "" and f.items == () for f in report.checks)


def test_each_finding_links_to_a_wizard_step():
    for plan in (make_plan(), strong_plan(), with_(strong_plan(), people=[], channels=[])):
        for f in coach_report(plan).checks:
            assert f.step_slug in STEP_BY_SLUG
            assert f.title and f.message
            assert f.status is Status.PASS or f.next_step
            for ref in f.items:
                assert ref.step_slug in STEP_BY_SLUG
                assert ref.anchor == f"{ref.entity}-{ref.key}"


def _findings(*statuses: Status) -> list[Finding]:
    return [Finding(i, s, "t", "m", "", "review") for i, s in zip(CHECK_IDS, statuses, strict=True)]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(Status.PASS, 100), (Status.WARN, 50), (Status.FAIL, 0)],
)
def test_score_credits_pass_fully_warn_half_and_fail_nothing(status: Status, expected: int):
    assert score(_findings(*[status] * 14)) == expected


def test_score_weighs_checks_by_their_weight():
    statuses = [Status.PASS if i == "two_way" else Status.FAIL for i in CHECK_IDS]
    assert score(_findings(*statuses)) == round(100 * rules.WEIGHTS["two_way"] / sum(rules.WEIGHTS.values()))


@pytest.mark.parametrize("status", list(Status))
def test_score_stays_between_0_and_100(status: Status):
    mixed = [status if n % 2 else Status.PASS for n in range(14)]
    assert 0 <= score(_findings(*mixed)) <= 100
    assert score([]) == 0


def test_report_json_shape():
    report = coach_report(with_(strong_plan(), review_cadence=None))
    data = to_json(report)
    assert json.loads(json.dumps(data)) == data
    assert data["score"] == report.score
    assert isinstance(data["score"], int)
    assert [c["id"] for c in data["checks"]] == CHECK_IDS
    for c in data["checks"]:
        assert {"id", "status", "title", "message", "next_step", "step", "items"} <= set(c)
        assert c["status"] in ("pass", "warn", "fail")
    reflect = next(c for c in data["checks"] if c["id"] == "reflect")
    assert reflect["status"] == "fail"
    assert reflect["step"] == "measurement"
    assert data["balance"]["social_share"] == 0.8
    assert data["balance"]["hours_by_mode"]["broadcast"] == 2


def test_item_refs_in_json_say_where_to_fix_them():
    plan = strong_plan()
    plan["segments"].append(segment("s3", "Youth volunteers", venues=["Youth club chat"]))
    data = to_json(coach_report(plan))
    listen = next(c for c in data["checks"] if c["id"] == "listen_first")
    assert listen["items"] == [
        {"entity": "segment", "key": "s3", "title": "Youth volunteers", "step": "audiences", "anchor": "segment-s3"}
    ]


def test_findings_for_step_gives_the_advice_each_step_needs():
    report = coach_report(with_(strong_plan(), review_cadence=None, staff_access="blocked"))
    assert [f.id for f in findings_for_step(report, "measurement")] == ["reflect"]
    assert [f.id for f in findings_for_step(report, "starting-point")] == ["open_access"]
    assert findings_for_step(report, "audiences") == []
    assert {f.id for f in findings_for_step(report, "audiences", include_passed=True)} == {
        "where_they_talk",
        "real_audiences",
    }


def test_report_counts_and_lookup():
    report = coach_report(make_plan())
    assert sum(report.counts.values()) == 14
    assert report.finding("reflect").status is Status.FAIL
    with pytest.raises(KeyError):
        report.finding("nope")


@pytest.mark.skipif(not EXAMPLE_PLAN.exists(), reason="the example plan is not written yet")
def test_the_example_plan_scores_well():
    doc = json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))
    report = coach_report(doc["plan"])
    failing = {f.id: f.message for f in report.checks if f.status is Status.FAIL}
    assert not failing
    assert report.score >= 80


# ---------------------------------------------------------------- strategy_first


def test_strategy_first_fails_without_goals_or_objectives():
    f = run("strategy_first", make_plan())
    assert f.status is Status.FAIL
    assert f.step_slug == "goals"
    f = run("strategy_first", make_plan(goals=[item("goal", "g1", statement="Grow")]))
    assert f.status is Status.FAIL


def test_strategy_first_warns_when_one_practice_serves_no_objective():
    plan = strong_plan()
    plan["practices"].append(practice("pr9", "respond", 1, description="Answer DMs", owners=["p1"]))
    f = run("strategy_first", plan)
    assert f.status is Status.WARN
    assert "“Answer DMs” serves no objective." in f.message
    assert f.step_slug == "engagement"
    assert f.item is not None
    assert f.item.anchor == "practice-pr9"


def test_strategy_first_fails_when_no_practice_serves_an_objective():
    plan = strong_plan()
    practices = [{**p, "objective": None} for p in plan["practices"]]
    assert run("strategy_first", with_(plan, practices=practices)).status is Status.FAIL


def test_strategy_first_judges_objectives_whose_goal_is_missing():
    plan = strong_plan()
    plan["objectives"].append(item("objective", "o3", goal="g9", statement="Be famous"))
    f = run("strategy_first", plan)
    assert f.status is Status.WARN
    assert "“Be famous” serves no goal." in f.message
    assert f.step_slug == "goals"
    orphaned = [{**o, "goal": None} for o in plan["objectives"]]
    assert run("strategy_first", with_(plan, objectives=orphaned)).status is Status.FAIL


def test_strategy_first_warns_when_objectives_have_no_practice_yet():
    f = run("strategy_first", with_(strong_plan(), practices=[]))
    assert f.status is Status.WARN
    assert f.step_slug == "engagement"


# ---------------------------------------------------------------- listen_first


def test_listen_first_names_the_segment_nobody_listens_to():
    plan = strong_plan()
    plan["segments"].append(segment("s3", "Youth volunteers"))
    f = run("listen_first", plan)
    assert f.status is Status.WARN
    assert "Youth volunteers has no listening target." in f.message
    assert f.step_slug == "listening"
    assert [(r.entity, r.key) for r in f.items] == [("segment", "s3")]


def test_listen_first_fails_when_no_primary_segment_is_heard():
    plan = with_(strong_plan(), listening_targets=[listening("l1", ["s2"], "p1")])
    f = run("listen_first", plan)
    assert f.status is Status.FAIL
    assert "New parents on the east side has no listening target." in f.message


def test_listen_first_fails_without_listening_targets_or_segments():
    assert run("listen_first", with_(strong_plan(), listening_targets=[])).status is Status.FAIL
    f = run("listen_first", make_plan())
    assert f.status is Status.FAIL
    assert f.step_slug == "audiences"


def test_listen_first_ignores_secondary_segments():
    plan = with_(strong_plan(), listening_targets=[listening("l1", ["s1"], "p1")])
    assert run("listen_first", plan).status is Status.PASS


def test_listen_first_treats_every_segment_as_primary_when_none_is_marked():
    segments = [segment("s1", "Parents", None), segment("s2", "Makers", None)]
    f = run("listen_first", make_plan(segments=segments, listening_targets=[listening("l1", ["s1"])]))
    assert f.status is Status.WARN
    assert "Makers has no listening target." in f.message
    assert "No segment is marked primary" in f.message
    f = run("listen_first", make_plan(segments=segments, listening_targets=[listening("l1", ["s1", "s2"])]))
    assert f.status is Status.PASS


def test_listen_first_says_have_for_several_segments():
    segments = [segment("s1", "Parents"), segment("s2", "Makers"), segment("s3", "Teachers")]
    f = run("listen_first", make_plan(segments=segments, listening_targets=[listening("l1", ["s3"])]))
    assert "Parents and Makers have no listening target." in f.message


# ---------------------------------------------------------------- two_way


def _balance_plan(social: float | None, broadcast: float | None, **extra: Any) -> dict[str, Any]:
    return make_plan(practices=[practice("pr1", "respond", social), practice("pr2", "broadcast", broadcast)], **extra)


@pytest.mark.parametrize(
    ("social", "broadcast", "status"),
    [
        (59.9, 40.1, Status.WARN),
        (60, 40, Status.PASS),
        (60.1, 39.9, Status.PASS),
        (39.9, 60.1, Status.FAIL),
        (40, 60, Status.WARN),
        (40.1, 59.9, Status.WARN),
    ],
)
def test_two_way_social_share_thresholds(social: float, broadcast: float, status: Status):
    assert run("two_way", _balance_plan(social, broadcast)).status is status


def test_two_way_thresholds_are_the_declared_ones():
    assert rules.SOCIAL_SHARE_PASS == 0.60
    assert rules.SOCIAL_SHARE_FAIL_BELOW < rules.SOCIAL_SHARE_PASS


def test_two_way_message_gives_the_share_without_rounding_up():
    f = run("two_way", _balance_plan(59.9, 40.1))
    assert "59.9% of practice hours go to conversation" in f.message
    assert "The goal is 60%" in f.message
    assert [r.key for r in f.items] == ["pr2"]
    assert f.step_slug == "engagement"


def test_two_way_counts_every_mode_but_broadcast_as_social():
    modes = [m for m in checks.MODES if m != "broadcast"]
    plan = make_plan(practices=[practice(f"pr{i}", m, 1) for i, m in enumerate(modes)])
    assert run("two_way", plan).status is Status.PASS
    assert checks.balance(plan).social_share == 1


def test_two_way_counts_a_practice_without_hours_as_one_hour():
    f = run("two_way", _balance_plan(None, 1))
    assert f.status is Status.WARN  # 1 h of 2 h
    assert "“Practice pr1” has no hours and counts as 1 h a week." in f.message
    assert checks.balance(_balance_plan(None, 1)).total_hours == 2


def test_two_way_does_not_count_practices_without_a_mode_as_conversation():
    plan = make_plan(practices=[practice("pr1", "respond", 5), practice("pr2", None, 5, description="Newsletter")])
    f = run("two_way", plan)
    assert f.status is Status.WARN
    assert "Newsletter" in f.message
    assert "no mode" in f.message
    assert [r.key for r in f.items] == ["pr2"]


def test_two_way_fails_without_practices_and_warns_when_no_hours_are_given():
    assert run("two_way", make_plan()).status is Status.FAIL
    assert run("two_way", _balance_plan(0, 0)).status is Status.WARN


# ---------------------------------------------------------------- amplify_others


def test_amplify_others():
    assert run("amplify_others", make_plan()).status is Status.FAIL
    assert run("amplify_others", _balance_plan(3, 1)).status is Status.FAIL
    plan = make_plan(practices=[practice("pr1", "amplify", 1, description="Share members' repair photos")])
    f = run("amplify_others", plan)
    assert f.status is Status.PASS
    assert "“Share members' repair photos” passes on what others say." in f.message


def test_amplify_others_warns_when_amplifying_has_no_time():
    f = run("amplify_others", make_plan(practices=[practice("pr1", "amplify", 0)]))
    assert f.status is Status.WARN
    assert f.item is not None
    assert f.item.key == "pr1"


# ---------------------------------------------------------------- many_voices


def _voices_plan(owners: list[list[str]], listeners: list[str | None] = ()) -> dict[str, Any]:
    return make_plan(
        people=team_of(5),
        practices=[practice(f"pr{i}", "respond", 1, owners=o) for i, o in enumerate(owners)],
        listening_targets=[listening(f"l{i}", [], who) for i, who in enumerate(listeners)],
    )


@pytest.mark.parametrize(
    ("owners", "listeners", "status"),
    [
        ([], [], Status.FAIL),
        ([["p1"]], [], Status.FAIL),
        ([["p1"], ["p1"]], ["p1"], Status.FAIL),
        ([["p1", "p2"]], [], Status.WARN),
        ([["p1"]], ["p2"], Status.WARN),
        ([["p1", "p2"], ["p3"]], [], Status.PASS),
        ([["p1"]], ["p2", "p3"], Status.PASS),
        ([["p1", "p2"]], ["p2", "p1"], Status.WARN),
    ],
)
def test_many_voices_counts_distinct_owners_and_listeners(owners, listeners, status):
    assert rules.MANY_VOICES_PASS == 3
    assert run("many_voices", _voices_plan(owners, listeners)).status is status


def test_many_voices_names_the_few_and_ignores_unknown_people():
    f = run("many_voices", _voices_plan([["p1", "p9"], ["p2"]], ["ghost"]))
    assert f.status is Status.WARN
    assert "Only Person 1 and Person 2 own practices or listen." in f.message
    assert f.step_slug == "engagement"
    assert f.next_step == "Give Person 3 a practice or a listening target."


def test_many_voices_names_practices_nobody_owns_and_sends_small_teams_to_the_team_step():
    plan = make_plan(people=team_of(1), practices=[practice("pr1", "respond", 1, description="Answer questions")])
    f = run("many_voices", plan)
    assert f.status is Status.FAIL
    assert "Nobody does “Answer questions”." in f.message
    assert f.step_slug == "team"


# ---------------------------------------------------------------- leaders_take_part


def test_leaders_take_part_by_owning_a_practice_or_listening():
    team = [person("p1", "Director Dee", is_leader=True), person("p2", "Sam")]
    owns = make_plan(people=team, practices=[practice("pr1", "respond", 1, owners=["p1"])])
    listens = make_plan(people=team, listening_targets=[listening("l1", [], "p1")])
    assert run("leaders_take_part", owns).status is Status.PASS
    assert "Director Dee takes part in person" in run("leaders_take_part", owns).message
    assert run("leaders_take_part", listens).status is Status.PASS


def test_leaders_take_part_warns_about_a_leader_with_nothing_to_do():
    team = [person("p1", "Director Dee", is_leader=True), person("p2", "Sam")]
    plan = make_plan(people=team, practices=[practice("pr1", "respond", 1, owners=["p2"])])
    f = run("leaders_take_part", plan)
    assert f.status is Status.WARN
    assert "Director Dee is on the team but owns no practice and listens nowhere." in f.message
    assert f.item is not None
    assert f.item.anchor == "person-p1"


def test_leaders_take_part_fails_without_a_leader():
    assert run("leaders_take_part", make_plan()).status is Status.FAIL
    f = run("leaders_take_part", make_plan(people=team_of(3)))
    assert f.status is Status.FAIL
    assert f.step_slug == "team"


# ---------------------------------------------------------------- open_access


@pytest.mark.parametrize(
    ("access", "status"),
    [("open", Status.PASS), ("partial", Status.WARN), ("blocked", Status.FAIL), (None, Status.WARN)],
)
def test_open_access(access: str | None, status: Status):
    f = run("open_access", make_plan(staff_access=access))
    assert f.status is status
    assert f.step_slug == "starting-point"


# ---------------------------------------------------------------- where_they_talk


def test_where_they_talk():
    talkers = segment("s1", "Parents", venues=["Parents' group"])
    silent = segment("s2", "Teachers", venues=["  "])
    assert run("where_they_talk", make_plan(segments=[talkers])).status is Status.PASS
    f = run("where_they_talk", make_plan(segments=[talkers, silent]))
    assert f.status is Status.WARN
    assert "Teachers has no venue yet" in f.message
    assert f.step_slug == "audiences"
    assert run("where_they_talk", make_plan(segments=[silent])).status is Status.FAIL
    assert run("where_they_talk", make_plan()).status is Status.FAIL


def test_where_they_talk_ignores_secondary_segments():
    plan = make_plan(segments=[segment("s1", "Parents", venues=["x"]), segment("s2", "Press", "secondary")])
    assert run("where_they_talk", plan).status is Status.PASS


# ---------------------------------------------------------------- real_audiences


@pytest.mark.parametrize(
    "name",
    [
        "Everyone",
        "everybody",
        "Anyone!",
        "ALL",
        "The general public",
        "General Public",
        "the public",
        "General audience",
        "  The   public,  at large. ",
        "Everyone / the general public",
        "People",
        "Tout le monde",
        "Le grand public",
        "Die Öffentlichkeit",
        "Alle",
        "Todo el mundo",
        "El público en general",
        "Il grande pubblico",
        "Iedereen",
        "Het grote publiek",
    ],
)
def test_vague_audience_names(name: str):
    assert checks.is_vague_audience(name)


@pytest.mark.parametrize(
    "name",
    ["Young people", "Public librarians", "All-ages makers club", "General practitioners", "Parents", "The", ""],
)
def test_specific_audience_names(name: str):
    assert not checks.is_vague_audience(name)


def test_real_audiences():
    parents = segment("s1", "Parents")
    assert run("real_audiences", make_plan(segments=[parents])).status is Status.PASS
    f = run("real_audiences", make_plan(segments=[parents, segment("s2", "The General Public", "secondary")]))
    assert f.status is Status.WARN
    assert "The General Public is everyone" in f.message
    assert f.item is not None
    assert f.item.anchor == "segment-s2"
    primary_vague = make_plan(segments=[parents, segment("s2", "Everyone")])
    assert run("real_audiences", primary_vague).status is Status.FAIL
    only_vague = make_plan(segments=[segment("s2", "Everyone", "secondary")])
    assert run("real_audiences", only_vague).status is Status.FAIL
    assert run("real_audiences", make_plan()).status is Status.FAIL


# ---------------------------------------------------------------- capacity


def _capacity_plan(practice_hours: list[float | None], team_hours: list[float | None]) -> dict[str, Any]:
    return make_plan(
        people=[person(f"p{i}", f"Person {i}", h) for i, h in enumerate(team_hours)],
        practices=[practice(f"pr{i}", "respond", h) for i, h in enumerate(practice_hours)],
    )


@pytest.mark.parametrize(
    ("hours", "status"),
    [(4.9, Status.WARN), (5, Status.PASS), (5.1, Status.PASS), (0, Status.FAIL)],
)
def test_capacity_needs_at_least_five_hours(hours: float, status: Status):
    assert rules.MIN_PRACTICE_HOURS == 5
    assert run("capacity", _capacity_plan([hours], [20])).status is status


def test_capacity_adds_up_hours_across_practices():
    assert run("capacity", _capacity_plan([2.5, 2.5], [20])).status is Status.PASS
    assert run("capacity", _capacity_plan([0.1] * 49, [20])).status is Status.WARN  # 4.9 h
    assert run("capacity", _capacity_plan([0.1] * 50, [20])).status is Status.PASS  # 5.0 h despite float sums


@pytest.mark.parametrize(
    ("practice_hours", "team_hours", "status"),
    [
        ([6], [3, 3], Status.PASS),
        ([6], [3, 2.9], Status.FAIL),
        ([6.1], [3, 3], Status.FAIL),
        ([3, 3], [6], Status.PASS),
        ([3, 3.1], [6], Status.FAIL),
    ],
)
def test_capacity_fits_within_the_teams_hours(practice_hours, team_hours, status):
    f = run("capacity", _capacity_plan(practice_hours, team_hours))
    assert f.status is status


def test_capacity_message_compares_the_hours():
    f = run("capacity", _capacity_plan([8], [3, 2]))
    assert "The practices need 8 h a week, but the team gives only 5 h." in f.message
    assert f.step_slug == "team"


def test_capacity_names_practices_without_hours():
    plan = _capacity_plan([6, None], [10])
    plan["practices"][1]["description"] = "Host the monthly live chat"
    f = run("capacity", plan)
    assert f.status is Status.WARN
    assert "“Host the monthly live chat” has no hours yet." in f.message
    assert [r.key for r in f.items] == ["pr1"]
    assert run("capacity", _capacity_plan([None, None], [10])).status is Status.FAIL


def test_capacity_warns_when_nobody_on_the_team_has_hours():
    f = run("capacity", _capacity_plan([6], [None]))
    assert f.status is Status.WARN
    assert "Nobody on the team has hours" in f.message


def test_capacity_fails_without_practices_or_people():
    assert run("capacity", make_plan()).status is Status.FAIL
    f = run("capacity", _capacity_plan([6], []))
    assert f.status is Status.FAIL
    assert f.step_slug == "team"


# ---------------------------------------------------------------- measure_engagement


def test_measure_engagement_passes_and_fails():
    assert run("measure_engagement", strong_plan()).status is Status.PASS
    f = run("measure_engagement", with_(strong_plan(), metrics=[]))
    assert f.status is Status.FAIL
    assert f.step_slug == "measurement"
    assert run("measure_engagement", make_plan()).status is Status.FAIL


def test_measure_engagement_names_objectives_without_a_metric():
    plan = strong_plan()
    plan["metrics"] = plan["metrics"][:1]
    f = run("measure_engagement", plan)
    assert f.status is Status.WARN
    assert "“Neighbours share their own repair stories” has no metric." in f.message
    assert f.item is not None
    assert f.item.anchor == "objective-o2"


def test_measure_engagement_wants_an_engagement_metric():
    plan = strong_plan()
    reach_only = [{**m, "kind": "reach"} for m in plan["metrics"]]
    f = run("measure_engagement", with_(plan, metrics=reach_only))
    assert f.status is Status.WARN
    assert "No metric counts engagement" in f.message
    unlinked_reach = [{**m, "kind": "reach", "objective": None} for m in plan["metrics"]]
    assert run("measure_engagement", with_(plan, metrics=unlinked_reach)).status is Status.FAIL


# ---------------------------------------------------------------- ready_for_critics


def test_ready_for_critics():
    assert run("ready_for_critics", make_plan(response_protocol="Answer within a day.")).status is Status.PASS
    f = run("ready_for_critics", make_plan(response_protocol="   "))
    assert f.status is Status.FAIL
    assert f.step_slug == "engagement"
    assert run("ready_for_critics", make_plan()).status is Status.FAIL


def test_ready_for_critics_names_concerns_without_an_answer():
    plan = make_plan(
        response_protocol="Answer within a day.",
        concerns=[item("concern", "cn1", concern="Staff will say the wrong thing")],
    )
    f = run("ready_for_critics", plan)
    assert f.status is Status.WARN
    assert "“Staff will say the wrong thing” has no answer yet." in f.message


# ---------------------------------------------------------------- reflect


@pytest.mark.parametrize(
    ("cadence", "status"),
    [(None, Status.FAIL), ("weekly", Status.PASS), ("monthly", Status.PASS), ("yearly", Status.WARN)],
)
def test_reflect(cadence: str | None, status: Status):
    f = run("reflect", make_plan(review_cadence=cadence))
    assert f.status is status
    assert f.step_slug == "measurement"


# ---------------------------------------------------------------- focus


def test_focus_passes_when_every_live_channel_has_an_owner_and_a_practice():
    assert run("focus", strong_plan()).status is Status.PASS


def test_focus_names_a_channel_without_an_owner():
    plan = strong_plan()
    plan["channels"][1]["owner"] = None
    f = run("focus", plan)
    assert f.status is Status.WARN
    assert "Forum thread has no owner." in f.message
    assert f.step_slug == "starting-point"
    assert f.item is not None
    assert f.item.anchor == "channel-c2"


def test_focus_names_a_channel_no_practice_uses():
    plan = strong_plan()
    plan["channels"].append(item("channel", "c3", name="Old Twitter account", status=None, owner="p1"))
    f = run("focus", plan)
    assert f.status is Status.WARN
    assert "No practice uses Old Twitter account yet" in f.message
    assert "serves no practice" not in f.message  # the team's words, not the data model's
    assert f.step_slug == "engagement"


def test_focus_ignores_retiring_channels():
    plan = strong_plan()
    plan["channels"].append(item("channel", "c3", name="Old blog", status="retiring"))
    assert run("focus", plan).status is Status.PASS


def test_focus_fails_when_every_live_channel_is_abandoned_and_warns_without_channels():
    plan = with_(strong_plan(), practices=[{**p, "channels": []} for p in strong_plan()["practices"]])
    assert run("focus", plan).status is Status.FAIL
    assert run("focus", make_plan()).status is Status.WARN


# ---------------------------------------------------------------- messages


def test_long_names_are_shortened_and_many_names_summed_up():
    long = "Answer every question about repairs " * 5
    plan = make_plan(practices=[practice("pr1", "respond", 1, description=long)])
    message = run("strategy_first", with_(plan, objectives=[item("objective", "o1", goal=None)])).message
    assert "…”" in message
    assert len(message) < 200
    segments = [segment(f"s{i}", f"Group {i}") for i in range(7)]
    message = run("listen_first", make_plan(segments=segments)).message
    assert "Group 0, Group 1, Group 2, Group 3 and 3 more have no listening target." in message


def test_the_factory_builds_what_load_doc_builds():
    plan = make_plan()
    assert set(plan) == {f.name for f in PLAN_FIELDS} | set(ENTITY_BY_COLLECTION)
    p = practice("pr1", "respond", 1)
    assert p["owners"] == [] and p["objective"] is None
    assert person("p1", "Ana")["is_leader"] is False


# ---------------------------------------------------------------- each person's load


def _team_plan() -> dict[str, Any]:
    """Totals fit (8 h of work, 12 h given) but Ana carries 7 h of them with 4 h to give."""
    return make_plan(
        people=[person("p1", "Ana", 4), person("p2", "Ben", 8)],
        practices=[
            practice("pr1", "respond", 6, owners=["p1"]),
            practice("pr2", "amplify", 2, owners=["p1", "p2"]),
        ],
        listening_targets=[listening("l1", [], "p1")],
    )


def test_capacity_warns_about_one_person_over_their_hours_when_the_totals_fit():
    f = run("capacity", _team_plan())
    assert f.status is Status.WARN
    assert "Ana: 7 h a week of work against 4 h available, 3 h over." in f.message
    assert "Ben" not in f.message
    assert [r.key for r in f.items] == ["p1"]
    assert f.step_slug == "team"
    assert "Ana" in f.next_step


def test_each_persons_load_shares_practice_hours_equally_and_listening_adds_none():
    from planner.coach.load import loads

    by_person = {load.person: load for load in loads(_team_plan())}
    assert by_person["p1"].hours == 7 and by_person["p1"].over == 3  # 6 + 2 / 2; listening: 0 h
    assert by_person["p1"].listening == ("l1",)
    assert by_person["p2"].hours == 1 and not by_person["p2"].is_over
    assert rules.LISTENING_TARGET_HOURS == 0


def test_capacity_names_everyone_over_and_passes_at_exactly_their_hours():
    plan = _team_plan()
    plan["people"][0]["hours_per_week"] = 7
    assert run("capacity", plan).status is Status.PASS
    plan["people"][0]["hours_per_week"] = 6.9
    assert "Ana: 7 h a week of work against 6.9 h available, 0.1 h over." in run("capacity", plan).message


def test_the_example_plans_over_committed_volunteers_are_named_by_the_coach():
    doc = json.loads(EXAMPLE_PLAN.read_text(encoding="utf-8"))["plan"]
    f = coach_report(doc).finding("capacity")
    assert f.status is Status.WARN
    assert "Zoë Haddad: 3.25 h a week of work against 3 h available, 0.25 h over." in f.message
    assert "Tom Brennan: 1.75 h a week of work against 1 h available, 0.75 h over." in f.message


# ---------------------------------------------------------------- milestones and dates


def _dated_plan(**milestone: Any) -> dict[str, Any]:
    return with_(
        strong_plan(),
        period_start="2027-03-01",
        period_end="2027-12-31",
        milestones=[item("milestone", "ms1", title="Pilot review", owner="p1", **milestone)],
    )


@pytest.mark.parametrize(
    ("due", "done", "today", "said"),
    [
        ("2027-02-28", False, "2027-01-10", "“Pilot review” is due on 28 February 2027, before the plan starts"),
        ("2028-01-01", False, "2027-01-10", "“Pilot review” is due on 1 January 2028, after the plan ends"),
        ("2027-05-01", False, "2027-05-02", "“Pilot review” was due on 1 May 2027 and is not done."),
    ],
)
def test_reflect_names_milestones_outside_the_period_or_past_due(due, done, today, said):
    from datetime import date

    f = coach_report(_dated_plan(due=due, done=done), today=date.fromisoformat(today)).finding("reflect")
    assert f.status is Status.WARN
    assert said in f.message
    assert [r.key for r in f.items] == ["ms1"]
    assert f.step_slug == "first-90-days"


def test_reflect_passes_milestones_on_time_or_done():
    from datetime import date

    on_time = coach_report(_dated_plan(due="2027-05-01"), today=date(2027, 5, 1)).finding("reflect")
    assert on_time.status is Status.PASS
    done = coach_report(_dated_plan(due="2027-05-01", done=True), today=date(2027, 6, 1)).finding("reflect")
    assert done.status is Status.PASS


# ---------------------------------------------------------------- how the coach speaks


def test_names_are_shortened_at_a_word_and_keep_their_case():
    long = "Answer every QUESTION about repairs in the Eastside parents' group before lunchtime"
    ref = checks.ItemRef("practice", "pr1", long)
    shown = checks.display(ref)
    assert shown == "“Answer every QUESTION about repairs in the Eastside…”"
    words = shown.strip("“”…").split()
    assert all(w in long.split() for w in words)  # no word cut in half


def test_a_name_with_one_very_long_word_is_shortened_before_that_word_not_inside_it():
    from planner.plans.view import shorten

    long = "Answer on https://forum.example.org/categories/repairs-and-lending-questions for tenants"
    shown = shorten(long, 40)
    assert shown == "Answer on…"
    assert shorten("https://forum.example.org/categories/repairs-and-lending", 20).endswith("…")  # no word to cut at


def test_a_gap_several_checks_meet_is_said_once():
    from planner.coach import grouped

    advice = grouped(coach_report(make_plan()).checks)
    messages = [a.message for a in advice]
    assert len(messages) == len(set(messages))
    no_segments = next(a for a in advice if a.id == "listen_first")
    assert no_segments.title == "Listen first · Go where they talk · Real audiences"
    assert no_segments.message.count("no audience segments") == 1


def test_no_coach_text_uses_the_data_models_words():
    plans = [make_plan(), strong_plan(), _team_plan()]
    idle = strong_plan()
    idle["channels"].append(item("channel", "c3", name="Old forum", status="active", owner="p1"))
    plans.append(idle)
    for plan in plans:
        for f in coach_report(plan).checks:
            said = f"{f.message} {f.next_step}"
            assert "serves no practice" not in said
            assert " step, " not in said  # "On the Starting point step, …": the page or link says where
            for key in ("s1", "p1", "pr1", "c3"):
                assert f" {key} " not in f" {said} "
