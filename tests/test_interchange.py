"""The interchange format: export, import, what an import refuses, the web routes and the example.

The rules are tested as plain functions (`check_document`, `parse_document`); import and
export against the database; the routes through HTTP.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from planner.domain import ENTITIES, ENTITY_BY_NAME, FORMAT_NAME, FORMAT_VERSION, PLAN_FIELDS, limits
from planner.domain.spec import KEY_LENGTH
from planner.extensions import db
from planner.interchange import (
    DocumentRefused,
    ImportRefused,
    check_document,
    dumps,
    export_document,
    import_data,
    import_document,
    parse_document,
    validate_document,
)
from planner.interchange.example import example_document, find_example, load_example
from planner.interchange.transfer import slugify
from planner.interchange.validate import MAX_DEPTH, MAX_PROBLEMS, Problem
from planner.models import Plan
from planner.plans import store

MIB = 1024 * 1024
CONCERNS_MAX = ENTITY_BY_NAME["concern"].max_items


def plan_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Plan))


def raw(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def problems_of(document: Any) -> list[str]:
    return [str(p) for p in check_document(document)[1]]


# ---------------------------------------------------------------- the format


def test_export_is_the_plan_document_in_its_envelope(example_plan: Any) -> None:
    document = export_document(example_plan)
    assert list(document) == ["format", "version", "plan"]
    assert document["format"] == FORMAT_NAME == "web20-plan"
    assert document["version"] == FORMAT_VERSION == 1
    assert document["plan"] == store.load_doc(example_plan)
    # The plan's fields in declaration order, then one list per entity.
    assert list(document["plan"]) == [f.name for f in PLAN_FIELDS] + [e.collection for e in ENTITIES]
    assert [e.collection for e in ENTITIES] == [
        "goals",
        "objectives",
        "segments",
        "people",
        "channels",
        "listening_targets",
        "practices",
        "concerns",
        "metrics",
        "milestones",
    ]


def test_the_example_file_exports_exactly_as_written(example_plan: Any, example_doc: dict[str, Any]) -> None:
    assert export_document(example_plan) == example_doc


def test_export_import_export_gives_the_identical_document(example_plan: Any) -> None:
    first = dumps(export_document(example_plan))
    copy_of_plan = import_document(first.encode("utf-8"))
    assert copy_of_plan.id != example_plan.id
    assert dumps(export_document(copy_of_plan)) == first


def test_dumps_writes_readable_utf8(example_doc: dict[str, Any]) -> None:
    text = dumps(example_doc)
    assert "Zoë" in text and "Łukasz" in text  # not \u escapes
    assert text.endswith("}\n")
    assert json.loads(text) == example_doc


def test_a_minimal_document_imports_with_every_field_filled_in(ctx: Any) -> None:
    plan = import_document(b'{"format": "web20-plan", "version": 1, "plan": {"title": "Just a title"}}')
    document = export_document(plan)["plan"]
    assert document["title"] == "Just a title"
    for f in PLAN_FIELDS[1:]:
        assert document[f.name] == f.empty()
    for entity in ENTITIES:
        assert document[entity.collection] == []


def test_import_normalises_what_people_write(ctx: Any) -> None:
    document = {
        "plan": {
            "goals": [{"why": "  ", "statement": "  Lend more tools \n", "key": "g1"}],
            "people": [
                {"key": "p1", "name": "Zoë", "hours_per_week": 2.0, "role": "", "is_leader": None},
                {"key": "p2", "name": "Ann", "hours_per_week": 1.5, "training_needs": None},
            ],
            "segments": [
                {
                    "key": "s1",
                    "name": "Renters",
                    "venues": ["  Tenants' chat ", "", None, "Laundry room"],
                    "participation": ["critics", "critics"],
                }
            ],
            "channels": [{"key": "c1", "name": "Page", "segments": ["s1", "s1"], "owner": ""}],
            "period_start": "",
            "title": " Plan ",
            "staff_access": None,
        },
        "version": 1,
        "format": "web20-plan",
    }
    normal = validate_document(document)
    assert list(normal) == [f.name for f in PLAN_FIELDS] + [e.collection for e in ENTITIES]
    assert normal["title"] == "Plan"
    assert normal["period_start"] is None
    assert normal["goals"] == [{"key": "g1", "statement": "Lend more tools", "why": None}]
    assert normal["people"][0] == {
        "key": "p1",
        "name": "Zoë",
        "role": None,
        "is_leader": False,
        "hours_per_week": 2,
        "training_needs": None,
    }
    assert isinstance(normal["people"][0]["hours_per_week"], int)
    assert normal["segments"][0]["venues"] == ["Tenants' chat", "Laundry room"]
    assert normal["segments"][0]["participation"] == ["critics"]
    assert normal["segments"][0]["cares_about"] == []
    assert normal["channels"][0]["segments"] == ["s1"]
    assert normal["channels"][0]["owner"] is None

    plan = import_data(document)
    assert export_document(plan)["plan"] == normal


def test_references_may_point_forward_in_the_document(ctx: Any) -> None:
    # Milestones come last, but nothing says an owner must be declared before it is used.
    document = {
        "format": "web20-plan",
        "version": 1,
        "plan": {
            "title": "Order",
            "milestones": [{"key": "ms1", "title": "Start", "owner": "p1"}],
            "people": [{"key": "p1", "name": "Dana"}],
        },
    }
    plan = import_data(document)
    assert export_document(plan)["plan"]["milestones"][0]["owner"] == "p1"


def test_keys_are_kept_as_they_are(ctx: Any) -> None:
    document = {
        "format": "web20-plan",
        "version": 1,
        "plan": {
            "title": "Keys",
            "goals": [{"key": "Goal_1.a-b", "statement": "One"}],
            "objectives": [{"key": "x", "goal": "Goal_1.a-b", "statement": "Two"}],
        },
    }
    exported = export_document(import_data(document))["plan"]
    assert exported["goals"][0]["key"] == "Goal_1.a-b"
    assert exported["objectives"][0]["goal"] == "Goal_1.a-b"


def test_a_byte_order_mark_is_accepted(ctx: Any, example_doc: dict[str, Any]) -> None:
    plan = import_document(b"\xef\xbb\xbf" + raw(example_doc))
    assert export_document(plan) == example_doc


# ---------------------------------------------------------------- refusals

# Each case breaks the example document one way; the refusal must name the place.
Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets `plan.<path>` (dots and [n] as in the messages) to `value`."""

    def mutate(document: dict[str, Any]) -> None:
        target: Any = document["plan"]
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *head, last = path.split(".")
        target: Any = document["plan"]
        for part in head:
            name, _, index = part.partition("[")
            target = target[name][int(index[:-1])] if index else target[name]
        del target[last]

    return mutate


def _top(name: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        document[name] = value

    return mutate


def _duplicate_goal(document: dict[str, Any]) -> None:
    document["plan"]["goals"].append(dict(document["plan"]["goals"][0]))


def _too_many_concerns(document: dict[str, Any]) -> None:
    document["plan"]["concerns"] = [{"key": f"cn{i}", "concern": "?"} for i in range(CONCERNS_MAX + 1)]


def _deep(document: dict[str, Any]) -> None:
    value: Any = []
    for _ in range(MAX_DEPTH):
        value = [value]
    document["plan"]["goals"][0]["why"] = value


REFUSALS: list[tuple[str, Mutation, str]] = [
    # the envelope
    ("no format", _top("format", None), 'format: expected "web20-plan", found nothing'),
    ("wrong format", _top("format", "smart-chart"), 'format: expected "web20-plan", found "smart-chart"'),
    ("newer version", _top("version", 2), "version: version 2 (made by a newer Planner) cannot be read"),
    ("version as text", _top("version", "1"), "version: expected the number 1, found text"),
    ("version as bool", _top("version", True), "version: expected the number 1, found true or false"),
    ("plan not an object", _top("plan", ["title"]), "plan: expected an object, found a list"),
    ("unknown top-level field", _top("author", "me"), "author: unknown field"),
    # wrong types
    ("string where number", _set("people[0].hours_per_week", "6"), "plan.people[0].hours_per_week: expected a number"),
    ("bool where number", _set("people[0].hours_per_week", True), "plan.people[0].hours_per_week: expected a number"),
    ("number where bool", _set("people[0].is_leader", 1), "plan.people[0].is_leader: expected true or false"),
    ("number where list", _set("segments[0].venues", 3), "plan.segments[0].venues: expected a list, found a number"),
    ("text where list", _set("practices[0].owners", "p1"), "plan.practices[0].owners: expected a list, found text"),
    ("list where text", _set("goals[0].statement", ["a"]), "plan.goals[0].statement: expected text, found a list"),
    ("number in a list", _set("segments[0].venues[1]", 7), "plan.segments[0].venues[1]: expected text"),
    ("object where list", _set("goals", {"g1": {}}), "plan.goals: expected a list, found an object"),
    ("item not an object", _set("goals[1]", "g2"), "plan.goals[1]: expected an object, found text"),
    ("number where key", _set("milestones[0].owner", 1), "plan.milestones[0].owner: expected the key of a person"),
    # required fields
    ("no title", _delete("title"), "plan.title: is required"),
    ("blank title", _set("title", "   "), "plan.title: is required"),
    ("no statement", _set("goals[0].statement", None), "plan.goals[0].statement: is required"),
    ("objective without goal", _delete("objectives[0].goal"), "plan.objectives[0].goal: is required"),
    ("no key", _delete("people[2].key"), "plan.people[2].key: is required"),
    # unknown fields
    ("unknown plan field", _set("budget", 100), "plan.budget: unknown field"),
    ("misspelt plan field", _set("misson", "x"), 'plan.misson: unknown field (did you mean "mission"?)'),
    ("unknown item field", _set("people[1].email", "a@b"), "plan.people[1].email: unknown field"),
    # enumerations
    ("unknown enum", _set("practices[0].mode", "shout"), 'plan.practices[0].mode: "shout" is not one of listen'),
    ("enum wrong case", _set("staff_access", "Open"), 'plan.staff_access: "Open" is not one of blocked, partial'),
    ("unknown enum in list", _set("segments[0].participation[0]", "lurkers"), 'participation[0]: "lurkers" is not'),
    # keys and references
    ("duplicate key", _duplicate_goal, 'plan.goals[3].key: "g1" is already the key of plan.goals[0]'),
    (
        "broken reference list",
        _set("practices[3].owners[0]", "p9"),
        'plan.practices[3].owners[0]: no person with key "p9"',
    ),
    ("broken reference", _set("objectives[1].goal", "g7"), 'plan.objectives[1].goal: no goal with key "g7"'),
    (
        "reference to the wrong kind",
        _set("listening_targets[0].listener", "s1"),
        'plan.listening_targets[0].listener: no person with key "s1"',
    ),
    ("key with a space", _set("goals[0].key", "goal one"), 'plan.goals[0].key: "goal one" is not a key'),
    ("key too long", _set("goals[0].key", "g" * (KEY_LENGTH + 1)), "plan.goals[0].key: "),
    ("key not text", _set("goals[0].key", 1), "plan.goals[0].key: 1 is not a key"),
    ("key with newline", _set("goals[0].key", "g1\n"), "plan.goals[0].key: "),
    # limits
    ("text too long", _set("title", "x" * 201), "plan.title: is 201 characters long; the most is 200"),
    ("long text too long", _set("mission", "x" * 5001), "plan.mission: is 5001 characters long; the most is 5000"),
    ("list entry too long", _set("segments[0].venues[0]", "v" * 101), "plan.segments[0].venues[0]: is 101 characters"),
    ("too many list entries", _set("segments[0].venues", ["v"] * 13), "plan.segments[0].venues: has 13 entries"),
    ("too many items", _too_many_concerns, f"plan.concerns: has {CONCERNS_MAX + 1} items"),
    ("negative hours", _set("people[0].hours_per_week", -1), "plan.people[0].hours_per_week: -1 is outside 0 to 168"),
    ("too many hours", _set("practices[0].hours_per_week", 169), "hours_per_week: 169 is outside 0 to 168"),
    ("control character", _set("goals[0].why", "tab\tok but bell\x07 not"), "plan.goals[0].why: contains a control"),
    ("not a character", _set("goals[0].why", "no\uffff here"), "plan.goals[0].why: contains U+FFFF, which is not a"),
    ("nested too deeply", _deep, "document: is nested too deeply"),
    # dates
    ("no such day", _set("period_start", "2027-02-30"), 'plan.period_start: "2027-02-30" is not a date (YYYY-MM-DD)'),
    ("not ISO", _set("milestones[0].due", "08/03/2027"), 'plan.milestones[0].due: "08/03/2027" is not a date'),
    ("date with a time", _set("milestones[0].due", "2027-03-08T09:00"), "plan.milestones[0].due: "),
    ("date as number", _set("milestones[0].due", 20270308), "plan.milestones[0].due: expected a date"),
    ("end before start", _set("period_end", "2027-02-28"), "plan.period_end: 2027-02-28 is before the plan starts"),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_a_broken_document_is_refused_saying_where(
    ctx: Any, example_doc: dict[str, Any], mutate: Mutation, expected: str
) -> None:
    mutate(example_doc)
    with pytest.raises(ImportRefused) as refused:
        import_document(raw(example_doc))
    messages = [str(p) for p in refused.value.problems]
    assert any(expected in m for m in messages), messages
    assert plan_count() == 0


RAW_REFUSALS: list[tuple[str, bytes, str]] = [
    ("empty", b"", "document: is empty"),
    ("not JSON", b"title: My plan\n", "document: is not valid JSON: Expecting value (line 1, column 1)"),
    ("broken JSON", b'{"format": "web20-plan",', "document: is not valid JSON"),
    ("not UTF-8", b'{"format": "web20-plan", "x": "\xff"}', "document: is not UTF-8 text (byte 0xff at offset 31)"),
    ("UTF-16", '{"format": "web20-plan"}'.encode("utf-16"), "document: is not UTF-8 text"),
    ("NaN", b'{"format": "web20-plan", "version": NaN}', "document: is not valid JSON: NaN is not a JSON number"),
    ("absurd nesting", b"[" * 200_000 + b"]" * 200_000, "document: is nested too deeply"),
    ("duplicate names", b'{"format": "web20-plan", "format": "x"}', 'document: the name "format" appears twice'),
    ("huge number", b'{"version": 1' + b"0" * 5000 + b"}", "document: is not valid JSON: a number has too many digits"),
    ("lone surrogate", b'{"plan": {"title": "\\ud800"}}', "document: contains text that is not valid Unicode"),
    ("a list", b"[]", "document: expected an object with format, version and plan, found a list"),
    ("a string", b'"web20-plan"', "document: expected an object"),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in RAW_REFUSALS], ids=[c[0] for c in RAW_REFUSALS])
def test_bytes_that_are_not_a_document_are_refused(ctx: Any, data: bytes, expected: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_document(data)
    assert any(expected in str(p) for p in refused.value.problems), refused.value.problems
    assert plan_count() == 0


def test_an_oversized_document_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(DocumentRefused) as refused:
        parse_document(b"{" + b" " * 2000 + b"}", max_bytes=1024)
    assert [str(p) for p in refused.value.problems] == ["document: is too large: an import takes at most 1 KiB"]


def test_the_app_limits_imports_to_max_import_bytes(ctx: Any, example_doc: dict[str, Any]) -> None:
    limit = ctx.config["MAX_IMPORT_BYTES"]
    assert limit == limits.import_bytes()  # derived from the plan's limits: tests/test_limits.py
    padded = raw(example_doc) + b" " * limit  # valid JSON, but too big
    with pytest.raises(ImportRefused) as refused:
        import_document(padded)
    expected = f"document: is too large: an import takes at most {limit / MIB:.1f} MiB"
    assert str(refused.value.problems[0]).startswith(expected)
    assert plan_count() == 0


def test_every_problem_is_reported_at_once(example_doc: dict[str, Any]) -> None:
    plan = example_doc["plan"]
    plan["title"] = ""
    plan["staff_access"] = "closed"
    plan["people"][0]["hours_per_week"] = "six"
    plan["practices"][3]["owners"][0] = "p9"
    assert problems_of(example_doc) == [
        "plan.title: is required",
        'plan.staff_access: "closed" is not one of blocked, partial, open',
        "plan.people[0].hours_per_week: expected a number, found text",
        'plan.practices[3].owners[0]: no person with key "p9"',
    ]


def test_a_flood_of_problems_is_cut_short(example_doc: dict[str, Any]) -> None:
    # Each milestone and each listening target names a person who is not there: a problem each.
    many = ENTITY_BY_NAME["milestone"].max_items
    plan = example_doc["plan"]
    plan["milestones"] = [{"key": f"ms{i}", "title": "x", "owner": "nobody"} for i in range(many)]
    plan["listening_targets"] = [{"key": f"l{i}", "venue": "x", "listener": "nobody"} for i in range(many)]
    problems = problems_of(example_doc)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == f"document: and {2 * many - MAX_PROBLEMS} more problems"


def test_odd_names_are_quoted_and_escaped_in_paths() -> None:
    # Messages end up in terminals and pages: what the user wrote must not be able to steer them.
    document = {
        "format": "web20-plan",
        "version": 1,
        "plan": {"title": "x", "\x1b[2Jname": 1, "staff_access": "o\u202en"},
    }
    assert problems_of(document) == [
        'plan["\\u001b[2Jname"]: unknown field',
        'plan.staff_access: "o\\u202en" is not one of blocked, partial, open',
    ]


def test_a_wrong_format_is_not_read_any_further() -> None:
    assert problems_of({"format": "other", "version": 1, "plan": {"title": 1}}) == [
        'format: expected "web20-plan", found "other": this is not a plan document'
    ]


def test_a_plan_that_the_store_cannot_finish_leaves_nothing_behind(
    ctx: Any, example_doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whole or nothing even past validation: a failure halfway through writing rolls back.
    calls = {"n": 0}
    original = store.whole_plans.write_ref_lists

    def fail_halfway(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("disk full")
        original(*args, **kwargs)

    monkeypatch.setattr(store.whole_plans, "write_ref_lists", fail_halfway)
    with pytest.raises(RuntimeError):
        import_data(example_doc)
    db.session.remove()
    assert plan_count() == 0
    for model in ("goals", "people", "practices"):
        assert db.session.scalar(select(func.count()).select_from(db.metadata.tables[model])) == 0


def test_problems_read_as_path_and_message() -> None:
    problem = Problem("plan.practices[3].owners[0]", 'no person with key "p9"')
    assert str(problem) == 'plan.practices[3].owners[0]: no person with key "p9"'
    error = DocumentRefused([problem, Problem("plan.title", "is required")])
    assert str(error) == 'plan.practices[3].owners[0]: no person with key "p9"\nplan.title: is required'


# ---------------------------------------------------------------- the example plan


def test_the_example_is_a_valid_document_in_normal_form(example_doc: dict[str, Any]) -> None:
    assert validate_document(example_doc) == example_doc["plan"]


def test_the_example_is_a_fresh_copy_each_time() -> None:
    first = example_document()
    first["plan"]["title"] = "Changed"
    assert example_document()["plan"]["title"] != "Changed"


def test_the_example_fills_every_entity_and_field(example_doc: dict[str, Any]) -> None:
    plan = example_doc["plan"]
    for f in PLAN_FIELDS:
        assert plan[f.name] not in (None, "", []), f.name
    counts = {e.collection: len(plan[e.collection]) for e in ENTITIES}
    assert counts == {
        "goals": 3,
        "objectives": 5,
        "segments": 5,
        "people": 6,
        "channels": 4,
        "listening_targets": 5,
        "practices": 9,
        "concerns": 4,
        "metrics": 8,
        "milestones": 8,
    }
    for entity in ENTITIES:
        for f in entity.fields:
            assert any(item[f.name] not in (None, "", []) for item in plan[entity.collection]), (entity.name, f.name)


def test_the_example_shows_the_products_spirit(example_doc: dict[str, Any]) -> None:
    plan = example_doc["plan"]
    assert {s["priority"] for s in plan["segments"]} == {"primary", "secondary"}
    assert all(s["venues"] for s in plan["segments"] if s["priority"] == "primary")
    leaders = [p for p in plan["people"] if p["is_leader"]]
    assert leaders and all(p["hours_per_week"] for p in leaders)
    assert "retiring" in {c["status"] for c in plan["channels"]}
    modes = [p["mode"] for p in plan["practices"]]
    assert modes.count("broadcast") == 1
    assert {"listen", "respond", "amplify", "host", "collaborate", "enable"} <= set(modes)
    hours = {p["mode"]: 0.0 for p in plan["practices"]}
    for p in plan["practices"]:
        hours[p["mode"]] += p["hours_per_week"]
    assert hours["broadcast"] / sum(hours.values()) < 0.4
    leader_keys = {p["key"] for p in leaders}
    assert leader_keys & {o for p in plan["practices"] for o in p["owners"]}
    assert {m["kind"] for m in plan["metrics"]} >= {"engagement", "reach"}
    assert plan["response_protocol"]
    assert all(m["due"].startswith("2027-") for m in plan["milestones"])
    text = json.dumps(example_doc, ensure_ascii=False)
    assert "Zoë" in text and "Łukasz" in text


def test_the_example_is_loaded_once(ctx: Any) -> None:
    plan = load_example()
    assert plan is not None
    assert load_example() is None
    assert find_example().id == plan.id
    assert plan_count() == 1
    assert export_document(plan) == example_document()


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Eastside Tool Library: talking with our neighbours", "eastside-tool-library-talking-with-our-neighbours"),
        ("Zoë's plan", "zoe-s-plan"),
        ("計画", "plan"),
        ("  --  ", "plan"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


# ---------------------------------------------------------------- the web


def test_export_json_downloads_the_document(web: Any, example_plan: Any, example_doc: dict[str, Any]) -> None:
    response = web.get(f"/plans/{example_plan.id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "eastside-tool-library-talking-with-our-neighbours.json" in disposition
    assert json.loads(response.get_data()) == example_doc


def test_export_json_of_an_unknown_plan_is_404(web: Any) -> None:
    assert web.get("/plans/999999/export.json").status_code == 404


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
needs_base_page = pytest.mark.skipif(
    not (TEMPLATES / "base.html").exists(), reason="templates/base.html (the lead's) does not exist yet"
)


def upload(web: Any, data: bytes, name: str = "plan.json", **extra: Any) -> Any:
    from io import BytesIO

    return web.post("/plans/import", data={"file": (BytesIO(data), name), **extra}, content_type="multipart/form-data")


@needs_base_page
def test_the_import_page_shows_the_upload_form(web: Any) -> None:
    page = web.get("/plans/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'name="file"' in html and 'name="csrf_token"' in html


@needs_base_page
def test_uploading_a_plan_opens_its_first_step(web: Any, example_doc: dict[str, Any]) -> None:
    response = upload(web, raw(example_doc))
    assert response.status_code == 303
    with web.client.application.app_context():
        plan = find_example()
        assert response.headers["Location"].endswith(f"/plans/{plan.id}/steps/starting-point")
        assert export_document(plan) == example_doc


@needs_base_page
def test_uploading_a_broken_plan_lists_the_problems_and_saves_nothing(web: Any, example_doc: dict[str, Any]) -> None:
    example_doc["plan"]["practices"][3]["owners"][0] = "p9"
    example_doc["plan"]["title"] = ""
    response = upload(web, raw(example_doc))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "plan.practices[3].owners[0]" in html
    assert "no person with key &#34;p9&#34;" in html or "no person with key &quot;p9&quot;" in html
    assert "plan.title" in html
    with web.client.application.app_context():
        assert plan_count() == 0


@needs_base_page
def test_uploading_two_files_at_once_asks_for_one_and_imports_neither(web: Any, example_doc: dict[str, Any]) -> None:
    from io import BytesIO

    files = [(BytesIO(raw(example_doc)), "one.json"), (BytesIO(raw(example_doc)), "two.json")]
    response = web.post("/plans/import", data={"file": files}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose one file: each import makes one plan." in response.get_data(as_text=True)
    with web.client.application.app_context():
        assert plan_count() == 0


@needs_base_page
def test_uploading_nothing_asks_for_a_file(web: Any) -> None:
    response = web.post("/plans/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a plan file to import." in response.get_data(as_text=True)


@needs_base_page
def test_an_upload_larger_than_the_server_reads_is_refused_with_a_page(web: Any, app: Any) -> None:
    # A raw body, not a built multipart one: the test client would spool that to a temporary
    # file that stays open when the server refuses to read it.
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = web.client.post("/plans/import", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)


def test_uploading_without_the_csrf_token_is_refused(client: Any, example_doc: dict[str, Any]) -> None:
    from io import BytesIO

    response = client.post(
        "/plans/import", data={"file": (BytesIO(raw(example_doc)), "plan.json")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    with client.application.app_context():
        assert plan_count() == 0


def test_the_csrf_check_is_on_in_tests(app: Any) -> None:
    # The test config must not switch CSRF off, or the test above would prove nothing.
    assert app.config.get("WTF_CSRF_ENABLED", True)


def test_import_leaves_the_callers_document_alone(ctx: Any, example_doc: dict[str, Any]) -> None:
    # Validation normalises into a new dict: the caller's document is left as it was.
    before = copy.deepcopy(example_doc)
    example_doc["plan"]["title"] = "  Spaced  "
    before["plan"]["title"] = "  Spaced  "
    import_data(example_doc)
    assert example_doc == before
