"""Properties of the interchange format, with documents generated from the domain declaration.

The strategies below know nothing about goals or practices: they walk `PLAN_FIELDS` and
`ENTITIES` and draw a value for each field by its kind, with references drawn from the keys
generated for the target entity.  So a field added to the declaration is generated, imported
and exported here without a change to this file.

Each example imports into the real database; it runs inside its own app context and deletes
what it created, because hypothesis reuses one fixture value for many examples.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from planner.domain import Entity, Field, Kind, declaration
from planner.domain.limits import KEY_LENGTH, key_problem
from planner.extensions import db
from planner.interchange import ImportRefused, dumps, export_document, import_document
from planner.interchange.validate import validate_document
from planner.models import Plan
from planner.plans import store

# Modest counts keep the suite quick; each database example costs a full import and export.
# The function-scoped fixture hypothesis warns about is conftest's autouse table cleaner,
# which runs once per test, not per example: so each example that writes opens its own app
# context (on the session-scoped `app`) and deletes what it created.
_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
PURE = settings(max_examples=50, deadline=None, suppress_health_check=_CHECKS)
DATABASE = settings(max_examples=30, deadline=None, suppress_health_check=_CHECKS)

# ---------------------------------------------------------------- strategies

KEYS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
    min_size=1,
    max_size=KEY_LENGTH,
).filter(lambda key: key_problem(key) is None)  # not ".", ".." or "new": the wizard's addresses
# Printable text from every script (and emoji), without control characters, surrogates or
# U+FFFE/U+FFFF (planner.text.UNPRINTABLE: what no plan holds).
CHARACTERS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")


@cache
def _text(max_length: int) -> st.SearchStrategy[str]:
    """Text as the format writes it: already stripped and never empty."""
    return (
        st.text(CHARACTERS, min_size=1, max_size=min(max_length, 24))
        .map(str.strip)
        .filter(lambda s: 0 < len(s) <= max_length)
    )


def _number(field: Field) -> st.SearchStrategy[int | float]:
    whole = st.integers(int(field.minimum), int(field.maximum))
    fraction = st.floats(field.minimum, field.maximum, allow_nan=False, allow_infinity=False).map(
        lambda x: int(x) if x.is_integer() else x
    )
    return st.one_of(whole, fraction)


@cache
def _plain_values(field: Field) -> st.SearchStrategy[Any]:
    """Values of a field that refers to nothing. Cached: building strategies is the slow part."""
    match field.kind:
        case Kind.TEXT | Kind.LONGTEXT:
            value: st.SearchStrategy[Any] = _text(field.max_length)
        case Kind.LIST:
            return st.lists(_text(field.max_length), max_size=min(field.max_items, 3))
        case Kind.ENUM:
            value = st.sampled_from(field.values)
        case Kind.ENUM_LIST:
            return st.lists(st.sampled_from(field.values), unique=True, max_size=min(field.max_items, 3))
        case Kind.BOOL:
            return st.booleans()
        case Kind.NUMBER:
            value = _number(field)
        case Kind.DATE:
            value = st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(date.isoformat)
        case _:
            raise AssertionError(f"no strategy for {field.kind}")
    return value if field.required else st.one_of(st.none(), value)


def field_values(field: Field, keys: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """A valid, normalised value of one declared field, by its kind; references are drawn
    from `keys`, the keys generated for each entity."""
    if not field.is_ref:
        return _plain_values(field)
    targets = keys.get(field.target or "", [])
    if field.kind is Kind.REF_LIST:
        return st.lists(st.sampled_from(targets), unique=True, max_size=3) if targets else st.just([])
    if not targets:
        return st.none()
    return st.sampled_from(targets) if field.required else st.one_of(st.none(), st.sampled_from(targets))


def _needs(entity: Entity) -> set[str]:
    """Entities an item of `entity` cannot exist without (targets of required references)."""
    return {f.target for f in entity.fields if f.kind is Kind.REF and f.required and f.target}


@st.composite
def plan_documents(draw: st.DrawFn, max_items: int = 4) -> dict[str, Any]:
    """A valid interchange document in normal form, built from the declaration as it is now."""
    entities: tuple[Entity, ...] = declaration.ENTITIES
    keys = {e.name: draw(st.lists(KEYS, unique=True, max_size=max_items)) for e in entities}
    for entity in entities:
        if any(not keys[target] for target in _needs(entity)):
            keys[entity.name] = []
    plan: dict[str, Any] = {f.name: draw(field_values(f, keys)) for f in declaration.PLAN_FIELDS}
    if plan.get("period_start") and plan.get("period_end") and plan["period_end"] < plan["period_start"]:
        plan["period_start"], plan["period_end"] = plan["period_end"], plan["period_start"]
    for entity in entities:
        item = st.fixed_dictionaries({f.name: field_values(f, keys) for f in entity.fields})
        plan[entity.collection] = [{"key": key, **draw(item)} for key in keys[entity.name]]
    return {"format": declaration.FORMAT_NAME, "version": declaration.FORMAT_VERSION, "plan": plan}


@st.composite
def untidy(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """The same document as a person might write it: padded text, empty strings for nothing,
    optional fields left out, and fields in any order.  It must import as `document`."""

    def scuff(fields: tuple[Field, ...], record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            value = record[f.name]
            # `is`, not `in`: 0 == False, and a zero is not an empty value.
            empty = value is None or value is False or value == []
            if empty and not f.required and draw(st.booleans()):
                continue  # left out
            if value is None and draw(st.booleans()):
                value = draw(st.sampled_from(["", "  "]))
            elif isinstance(value, str) and f.kind in (Kind.TEXT, Kind.LONGTEXT):
                value = draw(st.sampled_from(["", " ", "\n"])) + value + draw(st.sampled_from(["", " \t"]))
            out[f.name] = value
        names = draw(st.permutations(list(out)))
        return {name: out[name] for name in names}

    plan = document["plan"]
    result = scuff(declaration.PLAN_FIELDS, plan)
    for entity in declaration.ENTITIES:
        records = [{"key": r["key"], **scuff(entity.fields, r)} for r in plan[entity.collection]]
        if records or draw(st.booleans()):
            result[entity.collection] = records
    return {"version": document["version"], "plan": result, "format": document["format"]}


# ---------------------------------------------------------------- helpers


def _plan_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Plan))


def _round_trip(document: dict[str, Any]) -> dict[str, Any]:
    plan = import_document(dumps(document).encode("utf-8"), max_bytes=2 * 1024 * 1024)
    try:
        return json.loads(dumps(export_document(plan)))
    finally:
        store.delete_plan(plan)


# ---------------------------------------------------------------- properties


@PURE
@given(document=plan_documents())
def test_generated_documents_are_valid_and_already_normal(document: dict[str, Any]) -> None:
    assert validate_document(document) == document["plan"]


@DATABASE
@given(document=plan_documents())
def test_import_then_export_gives_back_the_same_document(app: Any, document: dict[str, Any]) -> None:
    with app.app_context():
        assert _round_trip(document) == document
        assert _plan_count() == 0


@DATABASE
@given(data=st.data())
def test_untidy_documents_import_as_their_normal_form(app: Any, data: st.DataObject) -> None:
    document = data.draw(plan_documents(max_items=3))
    messy = data.draw(untidy(document))
    assert validate_document(messy) == document["plan"]
    with app.app_context():
        assert _round_trip(messy) == document


# -- refusals: each mutation below makes any valid document invalid.


def _pick_item(data: st.DataObject, plan: dict[str, Any]) -> tuple[Entity, int, dict[str, Any]] | None:
    kinds = [e for e in declaration.ENTITIES if plan[e.collection]]
    if not kinds:
        return None
    entity = data.draw(st.sampled_from(kinds))
    index = data.draw(st.integers(0, len(plan[entity.collection]) - 1))
    return entity, index, plan[entity.collection][index]


def _wrong_value(field: Field) -> list[Any]:
    """Values no field of this kind accepts."""
    base: dict[Kind, list[Any]] = {
        Kind.TEXT: [5, True, ["a"], {"a": 1}, "x" * (field.max_length + 1), "bell\x07"],
        Kind.LIST: ["one line", 3, ["x" * (field.max_length + 1)], [1], ["ok"] * (field.max_items + 1)],
        Kind.ENUM: ["not-a-choice", 1, ["a"], True],
        Kind.ENUM_LIST: ["listen", ["not-a-choice"], [None], 7],
        Kind.REF: ["no-such-key-§", "zz" * 30, 3, ["k"]],
        Kind.REF_LIST: ["k", [3], ["no such key"], {"k": 1}],
        Kind.BOOL: ["true", 1, 0, "no", []],
        Kind.NUMBER: ["5", True, field.minimum - 1, field.maximum + 1, [1], 1e308 * 10],
        Kind.DATE: ["2027-02-30", "01/03/2027", 20270301, "2027-3-1", "2027-03-01T10:00", True],
    }
    base[Kind.LONGTEXT] = base[Kind.TEXT]
    return base[field.kind]


def _mutate(data: st.DataObject, document: dict[str, Any]) -> Any:
    plan = document["plan"]
    picked = _pick_item(data, plan)
    mutations = ["format", "version", "no plan", "plan field", "unknown plan field", "no title"]
    if picked:
        mutations += ["item field", "item field", "item field", "unknown item field", "bad key", "no key", "twin"]
    choice = data.draw(st.sampled_from(mutations), label="mutation")
    match choice:
        case "format":
            document["format"] = data.draw(st.sampled_from(["web20", "", None, 1, "WEB20-PLAN"]))
        case "version":
            document["version"] = data.draw(st.sampled_from([0, 2, "1", True, None, 1.5]))
        case "no plan":
            document["plan"] = data.draw(st.sampled_from([None, [], "plan", 1]))
        case "plan field":
            field = data.draw(st.sampled_from(declaration.PLAN_FIELDS))
            plan[field.name] = data.draw(st.sampled_from(_wrong_value(field)))
        case "unknown plan field":
            plan[data.draw(st.sampled_from(["titel", "owner", "notes", "goal"]))] = "x"
        case "no title":
            plan["title"] = data.draw(st.sampled_from([None, "", "   "]))
        case "item field":
            entity, _, item = picked
            field = data.draw(st.sampled_from(entity.fields))
            item[field.name] = data.draw(st.sampled_from(_wrong_value(field)))
        case "unknown item field":
            _, _, item = picked
            item[data.draw(st.sampled_from(["keys", "id", "notes", "Key"]))] = 1
        case "bad key":
            _, _, item = picked
            item["key"] = data.draw(st.sampled_from(["has space", "k" * (KEY_LENGTH + 1), 7, "é", "g1\n", "..", "new"]))
        case "no key":
            _, _, item = picked
            del item["key"]
        case "twin":
            entity, _, item = picked
            plan[entity.collection].append(dict(item))
    return document


@DATABASE
@given(data=st.data())
def test_any_mutation_of_a_valid_document_is_refused_and_writes_nothing(app: Any, data: st.DataObject) -> None:
    document = _mutate(data, data.draw(plan_documents()))
    with app.app_context():
        before = _plan_count()
        with pytest.raises(ImportRefused) as refused:
            import_document(json.dumps(document).encode("utf-8"), max_bytes=2 * 1024 * 1024)
        assert refused.value.problems
        assert all(p.path and p.message for p in refused.value.problems)
        assert _plan_count() == before


@DATABASE
@given(data=st.data())
def test_truncated_or_corrupted_bytes_are_refused(app: Any, data: st.DataObject) -> None:
    raw = dumps(data.draw(plan_documents(max_items=2))).encode("utf-8")
    garbage = data.draw(
        st.one_of(
            st.integers(0, len(raw) - 2).map(lambda n: raw[:n]),  # cut short: always broken JSON
            st.binary(max_size=200),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                max_leaves=10,
            ).map(lambda value: json.dumps(value).encode()),
        )
    )
    with app.app_context():
        before = _plan_count()
        with pytest.raises(ImportRefused) as refused:
            import_document(garbage, max_bytes=2 * 1024 * 1024)
        assert refused.value.problems
        assert _plan_count() == before
