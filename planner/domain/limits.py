"""How big a plan may grow, declared once, and the byte caps that follow from it.

The wizard's forms, the store, the JSON import and the upload all read these numbers, so that
whatever the wizard lets a team build, `flask plan export` writes and `flask plan import` (or
the upload page) takes back. Each entity's item count is declared with the entity
(`Entity.max_items` in `planner.domain.declaration`); each field's length with the field.

The numbers are far past what a real team writes (the example plan's longest paragraph of an
item is 151 characters, its longest list 5 entries, its longest name 81 characters; the large
plan of the layout checks, `tests.plan_factory.large_plan`, has 60 audiences and 150
practices), yet bound what the fullest plan costs to print: what a document repeats most are
the names that reference lists show, so those names and lists are the tightest limits. A plan
at every limit (`tests.plan_factory.fullest_document`) draws about five times the large plan's
HTML.

`document_bytes()` is the size of the largest JSON document `planner.interchange.dumps` can
write for a plan within these limits, every character at its most expensive; the import and
upload caps in `config.py` are derived from it. tests/test_limits.py checks the arithmetic
against a real document filled to every limit.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# ---------------------------------------------------------------- lengths of what one person types

SHORT_TEXT = 200  # a one-line answer: a goal, a target, where a figure comes from
NAME_TEXT = 200  # the name of an audience, a person or a channel; as before limits.py, so stored names still restore
TITLE_TEXT = 500  # a practice or a concern, said in a sentence or two
LONG_TEXT = 5000  # the plan's own paragraphs: mission, voice, guidelines, protocol
ITEM_LONG_TEXT = 1000  # a paragraph of one item: why a goal matters, how a concern is met
LIST_ITEMS = 12  # entries of a typed list ("what they care about", one per line)
LIST_ENTRY_TEXT = 100  # one entry of such a list
REF_ITEMS = 10  # items one item may name ("with which audiences", "who does it")
NUMBER_MAX = 168.0  # hours in a week: no per-week figure can be larger

# ---------------------------------------------------------------- keys

KEY_LENGTH = 40
KEY_CHARACTERS = "letters, digits, '_', '.' or '-'"
# Patterns are used with fullmatch: "$" alone would let a trailing newline through.
KEY_PATTERN = re.compile(rf"[A-Za-z0-9_.-]{{1,{KEY_LENGTH}}}")
# A key is a segment of the wizard's addresses (/plans/1/items/goal/<key>/edit): these would not
# name the item there. Browsers resolve "." and ".." as folders before sending a request, and
# "new" is the address that adds an item (tests/test_limits.py checks the routes against it).
RESERVED_KEYS = {
    ".": 'a web address reads "." as "this folder"',
    "..": 'a web address reads ".." as "the folder above"',
    "new": 'the wizard\'s address for adding an item ends in "new"',
}


def key_problem(key: Any) -> str | None:
    """Why `key` cannot name an item, or None when it can. The one rule for keys: the import
    refuses what it says, and every key the store makes or takes passes it."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        return f"is not a key: use 1 to {KEY_LENGTH} {KEY_CHARACTERS}"
    if key in RESERVED_KEYS:
        return f"cannot be a key: {RESERVED_KEYS[key]}"
    return None


# ---------------------------------------------------------------- the JSON a plan can become

# What one character can cost in the JSON Planner writes (UTF-8, not escaped to ASCII): four
# bytes for a character outside the Basic Multilingual Plane (an emoji); `"` and `\`, and the tab
# and line breaks the validators let through, cost two; other control characters are refused.
WORST_BYTES_PER_CHARACTER = 4
# The longest number the JSON can hold within 0..NUMBER_MAX: 17 significant digits and an
# exponent, as `repr` writes a float ("2.2250738585072014e-308").
WORST_NUMBER = 2.2250738585072014e-308
# Room for the rest of an upload's request: the multipart envelope, the file's name, the token.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def _text(characters: int) -> int:
    return 2 + characters * WORST_BYTES_PER_CHARACTER


def _container(depth: int, lines: list[tuple[int, int]]) -> int:
    """Bytes of a list or object written by `json.dumps(indent=2)` at nesting `depth`, from its
    lines as (bytes of one line without its indent, how many such lines)."""
    count = sum(n for _, n in lines)
    if not count:
        return 2  # [] or {}
    indent = 2 * (depth + 1)
    body = sum((indent + size) * n for size, n in lines)
    return 2 + body + 2 * (count - 1) + 1 + 2 * depth + 1  # "[\n", lines, ",\n" between, "\n  ]"


def _member(name: str, value: int) -> int:
    return len(name) + 2 + 2 + value  # "name": value


def field_bytes(field: Any, depth: int, counts: dict[str, int]) -> int:
    """The most bytes one field's value can take, written at nesting `depth`."""
    from planner.domain.spec import Kind

    match field.kind:
        case Kind.TEXT | Kind.LONGTEXT:
            return _text(field.max_length)
        case Kind.ENUM:
            return 2 + max(len(v.encode()) for v in field.values)
        case Kind.REF:
            return 2 + KEY_LENGTH
        case Kind.BOOL:
            return len("false")
        case Kind.NUMBER:
            return len(repr(WORST_NUMBER))
        case Kind.DATE:
            return 2 + len("2027-12-31")
        case Kind.LIST:
            return _container(depth, [(_text(field.max_length), field.max_items)])
        case Kind.ENUM_LIST:
            return _container(depth, [(2 + len(v.encode()), 1) for v in field.values[: field.max_items]])
        case Kind.REF_LIST:
            entries = min(field.max_items, counts.get(field.target, 0))
            return _container(depth, [(2 + KEY_LENGTH, entries)])
    raise AssertionError(f"no size for {field.kind}")  # a new Kind needs one here


@cache
def document_bytes() -> int:
    """The size of the largest JSON document Planner writes for one plan within the limits."""
    from planner.domain import declaration

    counts = {e.name: e.max_items for e in declaration.ENTITIES}
    plan_lines = [(_member(f.name, field_bytes(f, 2, counts)), 1) for f in declaration.PLAN_FIELDS]
    for entity in declaration.ENTITIES:
        item_lines = [(_member("key", 2 + KEY_LENGTH), 1)]
        item_lines += [(_member(f.name, field_bytes(f, 4, counts)), 1) for f in entity.fields]
        items = _container(2, [(_container(3, item_lines), entity.max_items)])
        plan_lines.append((_member(entity.collection, items), 1))
    envelope = [
        (_member("format", 2 + len(declaration.FORMAT_NAME)), 1),
        (_member("version", len(str(declaration.FORMAT_VERSION))), 1),
        (_member("plan", _container(1, plan_lines)), 1),
    ]
    return _container(0, envelope) + 1  # and the final newline


def _round_up(n: int, unit: int) -> int:
    return -(-n // unit) * unit


def import_bytes() -> int:
    """The largest plan document an import reads: the fullest plan, rounded up to 64 KiB."""
    return _round_up(document_bytes(), 64 * 1024)


def request_bytes() -> int:
    """The largest request the app reads (MAX_CONTENT_LENGTH, and nginx's client_max_body_size):
    an upload of the largest document with its envelope. Whole KiB, as nginx counts."""
    return import_bytes() + UPLOAD_ENVELOPE_BYTES
