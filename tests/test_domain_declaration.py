"""The domain declaration: declared once, consistent, and read (not restated) by its users.

"Add a field in the test, and the form and the JSON gain it": the tests at the end grow the
declaration with monkeypatch and check that the JSON format (validation, normal form, the
generated documents) and the wizard's forms follow without any other change.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import planner.domain
from planner.domain import (
    ENTITIES,
    ENTITY_BY_COLLECTION,
    ENTITY_BY_NAME,
    PLAN_FIELDS,
    STEP_OF_ENTITY,
    STEP_OF_PLAN_FIELD,
    STEPS,
    Entity,
    Field,
    Kind,
    declaration,
)
from planner.domain.spec import enum, number, text
from planner.interchange import check_document, validate_document
from planner.interchange.validate import KEY_PATTERN
from planner.plans import cached

SNAKE = re.compile(r"[a-z][a-z0-9_]*")


def all_fields() -> list[tuple[str, Field]]:
    return [("plan", f) for f in PLAN_FIELDS] + [(e.name, f) for e in ENTITIES for f in e.fields]


# ---------------------------------------------------------------- the declaration itself


def test_ten_entities_and_nine_steps_as_the_product_says() -> None:
    assert [e.name for e in ENTITIES] == [
        "goal",
        "objective",
        "segment",
        "person",
        "channel",
        "listening_target",
        "practice",
        "concern",
        "metric",
        "milestone",
    ]
    assert [s.slug for s in STEPS] == [
        "starting-point",
        "goals",
        "audiences",
        "team",
        "listening",
        "engagement",
        "measurement",
        "first-90-days",
        "review",
    ]
    assert [s.number for s in STEPS] == list(range(1, 10))


def test_people_and_goals_come_before_tools() -> None:
    # POST: people and objectives first, technology last. Channels are only listed on step 1;
    # the practices that use them come after goals, audiences and the team.
    order = {name: step.number for name, step in STEP_OF_ENTITY.items()}
    assert order["goal"] < order["segment"] < order["person"] < order["listening_target"] < order["practice"]


def test_names_are_identifiers_and_unique() -> None:
    for owner, f in all_fields():
        assert SNAKE.fullmatch(f.name), (owner, f.name)
        assert f.name != "key", f"{owner}: 'key' is every item's own and cannot be declared"
        assert f.label, (owner, f.name)
    assert len({f.name for f in PLAN_FIELDS}) == len(PLAN_FIELDS)
    for entity in ENTITIES:
        assert len(set(entity.field_names)) == len(entity.fields), entity.name
        assert entity.title_field in entity.field_names
        assert entity.field(entity.title_field).required
    assert len({e.collection for e in ENTITIES}) == len(ENTITIES)
    assert len({e.key_prefix for e in ENTITIES}) == len(ENTITIES)
    # A plan's lists and its fields share one JSON object: no name may be both.
    assert not {f.name for f in PLAN_FIELDS} & {e.collection for e in ENTITIES}


def test_generated_keys_are_valid_keys() -> None:
    for entity in ENTITIES:
        assert KEY_PATTERN.fullmatch(f"{entity.key_prefix}{10**6}"), entity.name


def test_references_point_at_declared_entities_and_choices_are_closed_sets() -> None:
    for owner, f in all_fields():
        if f.is_ref:
            assert f.target in ENTITY_BY_NAME, (owner, f.name)
        else:
            assert f.target is None, (owner, f.name)
        if f.kind in (Kind.ENUM, Kind.ENUM_LIST):
            assert f.choices, (owner, f.name)
            assert len(set(f.values)) == len(f.values)
            assert all(SNAKE.fullmatch(v) for v in f.values), (owner, f.name)
        else:
            assert not f.choices, (owner, f.name)


def test_every_plan_field_and_entity_is_edited_on_exactly_one_step() -> None:
    edited_fields = [name for s in STEPS for name in s.plan_fields]
    assert sorted(edited_fields) == sorted(f.name for f in PLAN_FIELDS)
    edited_entities = [name for s in STEPS for name in s.entities]
    assert sorted(edited_entities) == sorted(ENTITY_BY_NAME)
    assert set(STEP_OF_PLAN_FIELD) == {f.name for f in PLAN_FIELDS}
    for step in STEPS:
        assert set(step.required_fields) <= set(step.plan_fields), step.slug
        assert set(step.required_entities) <= set(step.entities), step.slug


def test_lookups_agree_with_the_declaration() -> None:
    assert {e.name: e for e in ENTITIES} == ENTITY_BY_NAME
    assert {e.collection: e for e in ENTITIES} == ENTITY_BY_COLLECTION
    assert planner.domain.ENTITIES is declaration.ENTITIES


# ---------------------------------------------------------------- add a field, and ...

LANGUAGES = text("languages", "Languages they speak", help="So that we answer in them.")
HASHTAG = text("hashtag", "Our hashtag", max_length=40)
BUDGET = number("budget_hours", "Hours the board has agreed")
STAGE = enum("stage", "Stage", (declaration.CADENCES[0],))


def grow(monkeypatch: pytest.MonkeyPatch, entity_name: str, *new: Field) -> Entity:
    """Add fields to one entity's declaration for the length of a test."""
    old = ENTITY_BY_NAME[entity_name]
    grown = dataclasses.replace(old, fields=(*old.fields, *new))
    entities = tuple(grown if e.name == entity_name else e for e in declaration.ENTITIES)
    for module in (declaration, planner.domain):
        monkeypatch.setattr(module, "ENTITIES", entities)
    # One dict object serves planner.domain and the declaration: change it in place.
    monkeypatch.setitem(declaration.ENTITY_BY_NAME, entity_name, grown)
    monkeypatch.setitem(declaration.ENTITY_BY_COLLECTION, grown.collection, grown)
    # A process never changes its declaration: a grown one comes with a deploy, whose new
    # processes have worked out no page yet (planner.plans.cached).
    cached.clear()
    return grown


def grow_plan(monkeypatch: pytest.MonkeyPatch, *new: Field) -> tuple[Field, ...]:
    fields = (*declaration.PLAN_FIELDS, *new)
    for module in (declaration, planner.domain):
        monkeypatch.setattr(module, "PLAN_FIELDS", fields)
    cached.clear()
    return fields


def document(plan: dict[str, Any]) -> dict[str, Any]:
    return {"format": "web20-plan", "version": 1, "plan": {"title": "Grown", **plan}}


SEGMENT = {"key": "s1", "name": "Renters"}


def test_without_the_field_the_json_refuses_it() -> None:
    problems = [str(p) for p in check_document(document({"segments": [{**SEGMENT, "languages": "Polish"}]}))[1]]
    assert problems == ["plan.segments[0].languages: unknown field"]


def test_an_entity_field_added_to_the_declaration_is_part_of_the_json(monkeypatch: pytest.MonkeyPatch) -> None:
    grow(monkeypatch, "segment", LANGUAGES)

    normal = validate_document(document({"segments": [{**SEGMENT, "languages": "  Polish, Spanish "}]}))
    segment = normal["segments"][0]
    assert segment["languages"] == "Polish, Spanish"
    assert list(segment)[-1] == "languages"  # in declaration order, after the others

    # Optional, so it may be left out; and it obeys the rules of its kind.
    assert validate_document(document({"segments": [SEGMENT]}))["segments"][0]["languages"] is None
    problems = check_document(document({"segments": [{**SEGMENT, "languages": ["Polish"]}]}))[1]
    assert [str(p) for p in problems] == ["plan.segments[0].languages: expected text, found a list"]
    problems = check_document(document({"segments": [{**SEGMENT, "languages": "x" * 201}]}))[1]
    assert [str(p) for p in problems] == ["plan.segments[0].languages: is 201 characters long; the most is 200"]


def test_a_plan_field_added_to_the_declaration_is_part_of_the_json(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = grow_plan(monkeypatch, HASHTAG, BUDGET)

    normal = validate_document(document({"hashtag": "#EastsideFixes", "budget_hours": 12}))
    assert list(normal)[: len(fields)] == [f.name for f in fields]
    assert normal["hashtag"] == "#EastsideFixes"
    assert normal["budget_hours"] == 12
    problems = check_document(document({"budget_hours": 500}))[1]
    assert [str(p) for p in problems] == ["plan.budget_hours: 500 is outside 0 to 168"]


def test_generated_documents_gain_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_interchange_properties import plan_documents

    grow(monkeypatch, "segment", LANGUAGES, STAGE)
    grow_plan(monkeypatch, HASHTAG)

    # The strategies read the declaration when they draw, so they see the grown one.
    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(plan_documents())
    def check(generated: dict[str, Any]) -> None:
        assert "hashtag" in generated["plan"]
        assert all({"languages", "stage"} <= set(s) for s in generated["plan"]["segments"])
        assert validate_document(generated) == generated["plan"]

    check()


# ---------------------------------------------------------------- ... the form gains it too
#
# The step pages build their forms from the declaration when they are asked for, so a grown
# declaration shows up on the page itself.


def test_an_entity_field_added_to_the_declaration_is_in_the_wizard_form(monkeypatch, web) -> None:
    plan_id = int(web.post("/plans", {"title": "Grown"}).location.split("/")[-3])
    assert 'name="new-segment-languages"' not in web.get(f"/plans/{plan_id}/steps/audiences").get_data(as_text=True)

    grow(monkeypatch, "segment", LANGUAGES)

    html = web.get(f"/plans/{plan_id}/steps/audiences").get_data(as_text=True)
    assert '<label for="new-segment-languages">Languages they speak</label>' in html
    assert re.search(r'<input[^>]*name="new-segment-languages"[^>]*type="text"', html)


def test_a_plan_field_added_to_a_step_is_in_the_wizard_form(monkeypatch, web) -> None:
    plan_id = int(web.post("/plans", {"title": "Grown"}).location.split("/")[-3])
    grow_plan(monkeypatch, HASHTAG)
    step = declaration.STEP_BY_SLUG["engagement"]
    monkeypatch.setitem(
        declaration.STEP_BY_SLUG, "engagement", dataclasses.replace(step, plan_fields=(*step.plan_fields, "hashtag"))
    )

    html = web.get(f"/plans/{plan_id}/steps/engagement").get_data(as_text=True)
    assert '<label for="plan-hashtag">Our hashtag</label>' in html
