"""Plans made to order from the domain declaration, for tests, screenshots and benchmarks.

* `generated_plan(n)`: `n` items of every kind, every field filled with a label and a number,
  every reference valid.  Regular on purpose: tests can predict each value.
* `sized_plan(counts)` and `large_plan()`: a plan with a chosen number of items of each kind,
  whose words, lengths and links vary the way a real team's plan does (some practices serve no
  objective yet, some people take on more hours than they have, some milestones are done).
  Seeded, so the same call gives the same plan every time.

Both read the declaration, so a field added there is filled here without touching this module,
and both pass through the interchange format's validation, as an import would.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, Entity, Field, Kind
from planner.domain.limits import KEY_LENGTH, WORST_NUMBER
from planner.interchange.transfer import wrap
from planner.interchange.validate import validate_document

# ---------------------------------------------------------------- n of everything


def item_key(entity_name: str, i: int) -> str:
    return f"{ENTITY_BY_NAME[entity_name].key_prefix}{i}"


def _value(field: Field, i: int, n: int) -> Any:
    """A filled-in value for item `i` of `n` (references point at items that exist)."""
    match field.kind:
        case Kind.TEXT | Kind.LONGTEXT:
            return f"{field.label} {i}"
        case Kind.LIST:
            return [f"{field.label} {i}a", f"{field.label} {i}b"]
        case Kind.ENUM:
            return field.choices[i % len(field.choices)].value
        case Kind.ENUM_LIST:
            return [c.value for c in field.choices[:2]]
        case Kind.REF:
            return item_key(field.target, i)
        case Kind.REF_LIST:
            return [item_key(field.target, i), item_key(field.target, i % n + 1)]
        case Kind.BOOL:
            return i % 2 == 0
        case Kind.NUMBER:
            return 1.5
        case Kind.DATE:
            return f"2025-{i % 12 + 1:02d}-15"
    raise ValueError(f"no generated value for {field.kind}")


def generated_plan(n: int) -> dict[str, Any]:
    """A valid plan document with `n` items of every kind, every field filled."""
    plan: dict[str, Any] = {f.name: _value(f, 1, n) for f in PLAN_FIELDS}
    plan["title"] = f"A plan with {n} of everything"
    for entity in ENTITIES:
        plan[entity.collection] = [
            {"key": item_key(entity.name, i), **{f.name: _value(f, i, n) for f in entity.fields}}
            for i in range(1, n + 1)
        ]
    return validate_document(wrap(plan))


# ---------------------------------------------------------------- a plan of a chosen size

# The large plan of the document's layout checks: a regional federation's plan, say.
LARGE = {
    "goal": 10,
    "objective": 30,
    "segment": 60,
    "person": 25,
    "channel": 12,
    "listening_target": 60,
    "practice": 150,
    "concern": 20,
    "metric": 60,
    "milestone": 30,
}
START = date(2027, 3, 1)


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Plain words to build sentences from: enough variety for realistic line lengths.
_WORDS = _split(
    "neighbours volunteers members parents tenants makers fixers donors partners students teachers "
    "questions answers stories photos threads replies events workshops guides tips ideas reviews "
    "local weekly shared open friendly practical small regular public quiet honest useful "
    "answer share host invite thank listen ask join mend borrow lend learn teach welcome "
    "forum group page list chat newsletter market library garden school clinic council"
)
_NAMES = _split(
    "Ada Ben Chloé Dev Elif Farid Grace Hugo Inés Jonas Kemi Luca Mei Nadia Omar Priya Quinn Rosa Sven Tariq "
    "Uma Viktor Wen Yusuf Zofia"
)
_SURNAMES = _split("Abbott Brandt Costa Dubois Eze Fischer García Haas Ivanova Jensen Kowalski Lindqvist Moreau Novak")


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def _name(rng: random.Random, low: int = 2, high: int = 4) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high))).capitalize()


class _Sized:
    """Makes the values of one sized plan; `rng` decides everything, so a seed gives one plan."""

    def __init__(self, counts: dict[str, int], rng: random.Random) -> None:
        self.counts = counts
        self.rng = rng

    def keys(self, entity_name: str) -> list[str]:
        return [item_key(entity_name, i) for i in range(1, self.counts.get(entity_name, 0) + 1)]

    def value(self, entity: Entity | None, field: Field, i: int) -> Any:
        rng = self.rng
        where = entity.name if entity else "plan"
        match (where, field.name):
            case ("person", "name"):
                return f"{_NAMES[i % len(_NAMES)]} {_SURNAMES[i * 5 % len(_SURNAMES)]}"
            case ("person", "hours_per_week"):
                return rng.choice((3, 4, 5, 6, 6, 8, 8, 10))
            case ("practice", "hours_per_week"):
                return rng.choice((0.5, 1, 1, 1, 1.5, 2))
            case ("practice", "objective") if rng.random() < 0.06:
                return None  # not yet tied to an objective
            case ("milestone", "due"):
                return (START + timedelta(days=rng.randint(2, 92))).isoformat()
            case ("milestone", "done"):
                return rng.random() < 0.3
        match field.kind:
            case Kind.TEXT:
                return _sentence(rng, 8, 24) if field.max_length > 200 else _name(rng)
            case Kind.LONGTEXT:
                return "\n\n".join(_sentence(rng, 10, 30) for _ in range(rng.choice((1, 1, 2))))
            case Kind.LIST:
                return [_name(rng, 1, 4) for _ in range(rng.randint(1, 4))]
            case Kind.ENUM:
                return rng.choice(field.values)
            case Kind.ENUM_LIST:
                return rng.sample(field.values, rng.randint(1, 3))
            case Kind.REF:
                keys = self.keys(field.target or "")
                return rng.choice(keys) if keys else None
            case Kind.REF_LIST:
                keys = self.keys(field.target or "")
                return rng.sample(keys, min(len(keys), rng.randint(1, 3)))
            case Kind.BOOL:
                return rng.random() < 0.25
            case Kind.NUMBER:
                return rng.choice((1, 2, 3))
            case Kind.DATE:
                return (START + timedelta(days=rng.randint(0, 365))).isoformat()
        raise ValueError(f"no generated value for {field.kind}")


def sized_plan(counts: dict[str, int], *, seed: int = 2027, title: str | None = None) -> dict[str, Any]:
    """A valid plan document with `counts[entity name]` items of each kind (0 when not named)."""
    make = _Sized(counts, random.Random(seed))
    plan: dict[str, Any] = {f.name: make.value(None, f, 0) for f in PLAN_FIELDS}
    total = sum(counts.values())
    plan["title"] = title or f"Regional plan with {total} items"
    plan["organization"] = "Federation of Neighbourhood Tool Libraries"
    plan["period_start"], plan["period_end"] = START.isoformat(), (START + timedelta(days=364)).isoformat()
    for entity in ENTITIES:
        plan[entity.collection] = [
            {"key": key, **{f.name: make.value(entity, f, i) for f in entity.fields}}
            for i, key in enumerate(make.keys(entity.name), start=1)
        ]
    return validate_document(wrap(plan))


def large_plan(seed: int = 2027) -> dict[str, Any]:
    """The large plan (see `LARGE`): 60 audiences, 150 practices and the rest in proportion."""
    return sized_plan(LARGE, seed=seed, title="Regional plan: 60 audiences, 150 practices")


# ---------------------------------------------------------------- the fullest plan the limits allow

# Characters that cost the most, or that a careless writer gets wrong: JSON's own escapes, markup,
# a tab and a line break (the only control characters a plan may hold), a right-to-left override,
# a joiner, a combining accent, a character that is a line break to `splitlines` but not to JSON.
TRICKY = "\"\\</b>&amp;'\t\n\u202e\u200d\u0301\u2028"
# Ideographs outside the Basic Multilingual Plane: four bytes each in UTF-8, the most a character
# costs in the JSON Planner writes, and text a line may break anywhere in, as in Japanese.
FILLER = "𠀋𠂤𠆢𠌫𠮟𡈁𡌛𡑮𡢽𠮷"


def _fullest_text(length: int, *, tricky: bool, one_line: bool) -> str:
    head = TRICKY.replace("\n", "").replace("\u2028", "") if one_line else TRICKY
    head = f"A{head}" if tricky else ""
    body = (FILLER * (length // len(FILLER) + 1))[: length - len(head) - (1 if head else 0)]
    return f"{head}{body}Z" if head else body


def _fullest_key(entity: Entity, i: int) -> str:
    """A key of the greatest length, with every kind of character a key may hold."""
    return (f"{entity.key_prefix}{i}.x_Y-" + "Kk9_.-" * 10)[:KEY_LENGTH]


def fullest_document(*, tricky: bool = True) -> dict[str, Any]:
    """The interchange document of the fullest plan the limits allow (`planner.domain.limits`):
    every kind at its most items, every text at its greatest length, every list at its most
    entries, every reference list naming as many items as it may, every key at its longest.

    Text is four-byte characters with, when `tricky`, characters JSON must escape and others
    that trip up writers and readers; without them (`tricky=False`) the document's JSON is
    exactly as large as `limits.document_bytes()` says any plan's can be."""
    keys = {e.name: [_fullest_key(e, i) for i in range(1, e.max_items + 1)] for e in ENTITIES}

    def value(field: Field, i: int) -> Any:
        match field.kind:
            case Kind.TEXT | Kind.LONGTEXT:
                return _fullest_text(field.max_length, tricky=tricky, one_line=field.kind is Kind.TEXT)
            case Kind.LIST:
                return [_fullest_text(field.max_length, tricky=tricky, one_line=True)] * field.max_items
            case Kind.ENUM:
                return max(field.values, key=len)
            case Kind.ENUM_LIST:
                return list(field.values[: field.max_items])
            case Kind.REF:
                targets = keys[field.target or ""]
                return targets[i % len(targets)]
            case Kind.REF_LIST:
                targets = keys[field.target or ""]
                return [targets[(i + n) % len(targets)] for n in range(min(field.max_items, len(targets)))]
            case Kind.BOOL:
                return False
            case Kind.NUMBER:
                return WORST_NUMBER
            case Kind.DATE:
                return "2027-12-31"
        raise ValueError(f"no fullest value for {field.kind}")

    plan: dict[str, Any] = {f.name: value(f, 0) for f in PLAN_FIELDS}
    plan["period_start"] = "2027-01-01"
    for entity in ENTITIES:
        plan[entity.collection] = [
            {"key": key, **{f.name: value(f, i) for f in entity.fields}} for i, key in enumerate(keys[entity.name])
        ]
    document = wrap(plan)
    # What an import would keep of it is the document itself: nothing is trimmed or dropped.
    assert wrap(validate_document(document)) == document
    return document
