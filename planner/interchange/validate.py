"""What an import accepts: the rules that turn untrusted bytes into a plan document.

Everything here is a pure function with no database and no request, so each rule can be
tested on its own.  The rules are read from the domain declaration *when they run*
(`declaration.PLAN_FIELDS`, `declaration.ENTITIES`): adding a field to the declaration adds
it to the format without touching this module.

`parse_document(raw, max_bytes=...)` refuses bytes that are too big, not UTF-8, not JSON or
nested too deeply; `validate_document(data)` checks the parsed value against the declaration
and returns the *normalised* plan dict that `store.create_from_doc` expects.  Both raise
`DocumentRefused`, carrying every problem found with the path where it is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from planner.domain import Entity, Field, Kind, declaration
from planner.domain.limits import KEY_PATTERN, key_problem  # noqa: F401  (KEY_PATTERN: read from here too)
from planner.text import UNPRINTABLE, one_line_ends

# Patterns are used with fullmatch: "$" alone would let a trailing newline through.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A valid document is at most five levels deep (document > plan > list > item > list);
# anything much deeper is not a plan, and refusing it early bounds the work we do.
MAX_DEPTH = 8
# Past this many, more messages only bury the first ones; the count is still reported.
MAX_PROBLEMS = 100
# What `str.splitlines` breaks a line at, beyond what `UNPRINTABLE` refuses: a
# one-line answer (a text box, one entry of a list typed one per line) holds none of them, or
# the wizard would show and save it as several.
LINE_BREAKS = re.compile(r"[\n\r\x85\u2028\u2029]")


@dataclass(frozen=True)
class Problem:
    """One reason a document was refused, and where: `plan.practices[3].owners[0]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DocumentRefused(ValueError):
    """The document cannot be imported. `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# ---------------------------------------------------------------- bytes to JSON


class _DuplicateName(ValueError):
    pass


def _no_duplicate_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal names; a document that says two things
    # about one field is ambiguous, so we refuse it instead of guessing.
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _DuplicateName(name)
        out[name] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_int(digits: str) -> int:
    # Python refuses to convert very long digit strings with a message about its own
    # settings; no plan needs more than a few digits, so say that plainly instead.
    if len(digits.lstrip("-")) > 30:
        raise ValueError("a number has too many digits")
    return int(digits)


LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _structure_problem(value: Any, limit: int) -> str | None:
    """What is wrong with the shape of a parsed value as a whole: too deep, or text that is
    not Unicode (a lone surrogate written as a \\u escape).  Walks without recursion."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, str):
            if LONE_SURROGATE.search(current):
                return "contains text that is not valid Unicode (a lone \\u surrogate escape)"
            continue
        if isinstance(current, dict):
            children: list[Any] = [*current.keys(), *current.values()]
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return f"is nested too deeply (more than {limit} levels)"
        stack.extend((child, depth + 1) for child in children)
    return None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def parse_document(raw: bytes | str, *, max_bytes: int) -> Any:
    """Parse untrusted bytes as JSON, or raise `DocumentRefused`."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > max_bytes:
        raise DocumentRefused([Problem("document", f"is too large: an import takes at most {_size(max_bytes)}")])
    if not data.strip():
        raise DocumentRefused([Problem("document", "is empty")])
    try:
        # A byte-order mark is harmless and some editors add one.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentRefused(
            [Problem("document", f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")]
        ) from None
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicate_names, parse_constant=_refuse_constant, parse_int=_parse_int
        )
    except json.JSONDecodeError as exc:
        raise DocumentRefused(
            [Problem("document", f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except _DuplicateName as exc:
        raise DocumentRefused(
            [Problem("document", f"the name {_quote(str(exc))} appears twice in one object")]
        ) from None
    except RecursionError:
        # The parser itself gave up: far deeper than any plan.
        raise DocumentRefused([Problem("document", f"is nested too deeply (more than {MAX_DEPTH} levels)")]) from None
    except ValueError as exc:
        raise DocumentRefused([Problem("document", f"is not valid JSON: {exc}")]) from None
    problem = _structure_problem(value, MAX_DEPTH)
    if problem:
        raise DocumentRefused([Problem("document", problem)])
    return value


# ---------------------------------------------------------------- JSON to a plan


def _unprintable(character: str) -> str:
    """What the import says of a character no plan may hold (`planner.text.UNPRINTABLE`, the
    rule forms read too): tabs and line breaks are fine, other control characters, lone
    surrogates and U+FFFE/U+FFFF are not."""
    if character < "\x80":
        return "contains a control character"
    return f"contains U+{ord(character):04X}, which is not a character"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _printable(text: str) -> str:
    # Messages quote what the user wrote; escape anything that could move a terminal's
    # cursor or reorder the line.
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return _printable(json.dumps(text, ensure_ascii=False)) if isinstance(value, str) else text


def _member(parent: str, name: str) -> str:
    """The path of a member: `plan.goals`, or `plan["odd name"]` for names that are not identifiers."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return f"{parent}.{name}" if parent else name
    return f"{parent}[{_quote(name)}]"


def _unknown(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f'unknown field (did you mean "{close[0]}"?)' if close else "unknown field"


class _Checker:
    """Walks one parsed document, collecting problems and building the normalised plan."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.dropped = 0

    def refuse(self, path: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(path, message))
        else:
            self.dropped += 1

    def all_problems(self) -> list[Problem]:
        if self.dropped:
            return [*self.problems, Problem("document", f"and {self.dropped} more problems")]
        return self.problems

    # -- one value of one field

    def text(self, path: str, field: Field, value: Any) -> str | None:
        if not isinstance(value, str):
            self.refuse(path, f"expected text, found {_type_name(value)}")
            return None
        # A line break is one character, as a browser counts it in a text area: "\r\n" is "\n".
        value = one_line_ends(value.strip())
        if bad := UNPRINTABLE.search(value):
            self.refuse(path, _unprintable(bad.group()))
            return None
        if field.kind in (Kind.TEXT, Kind.LIST) and LINE_BREAKS.search(value):
            self.refuse(path, "is one line of text: it holds a line break")
            return None
        if len(value) > field.max_length:
            self.refuse(path, f"is {len(value)} characters long; the most is {field.max_length}")
            return None
        return value or None

    def field(self, path: str, field: Field, value: Any, keys: dict[str, set[str]]) -> Any:
        """The normalised value of one field, or its empty value after refusing it."""
        # Empty text means "not filled in", as it does in a form.
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                self.refuse(path, "is required")
            return field.empty()
        match field.kind:
            case Kind.TEXT | Kind.LONGTEXT:
                return self.text(path, field, value)
            case Kind.ENUM:
                if not isinstance(value, str) or value not in field.values:
                    self.refuse(path, f"{_quote(value)} is not one of {', '.join(field.values)}")
                    return None
                return value
            case Kind.REF:
                return self.reference(path, field, value, keys)
            case Kind.BOOL:
                if not isinstance(value, bool):
                    self.refuse(path, f"expected true or false, found {_type_name(value)}")
                    return False
                return value
            case Kind.NUMBER:
                return self.number(path, field, value)
            case Kind.DATE:
                return self.date(path, value)
            case Kind.LIST | Kind.ENUM_LIST | Kind.REF_LIST:
                return self.list(path, field, value, keys)
        raise AssertionError(f"no rule for {field.kind}")  # a new Kind needs a rule here

    def reference(self, path: str, field: Field, value: Any, keys: dict[str, set[str]]) -> str | None:
        if not isinstance(value, str):
            self.refuse(path, f"expected the key of a {field.target}, found {_type_name(value)}")
            return None
        if value not in keys.get(field.target or "", set()):
            self.refuse(path, f"no {(field.target or '').replace('_', ' ')} with key {_quote(value)}")
            return None
        return value

    def number(self, path: str, field: Field, value: Any) -> int | float | None:
        # bool is an int in Python, but `true` is not a number of hours.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.refuse(path, f"expected a number, found {_type_name(value)}")
            return None
        if not (field.minimum <= value <= field.maximum):
            self.refuse(path, f"{value} is outside {field.minimum:g} to {field.maximum:g}")
            return None
        # NaN fails the range check above, as does infinity.
        number = float(value)
        # As the store writes it: whole numbers without ".0".
        return int(number) if number.is_integer() else number

    def date(self, path: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self.refuse(path, f"expected a date (YYYY-MM-DD), found {_type_name(value)}")
            return None
        try:
            if not ISO_DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value).isoformat()
        except ValueError:
            self.refuse(path, f"{_quote(value)} is not a date (YYYY-MM-DD)")
            return None

    def list(self, path: str, field: Field, value: Any, keys: dict[str, set[str]]) -> list[str]:
        if not isinstance(value, list):
            self.refuse(path, f"expected a list, found {_type_name(value)}")
            return []
        if len(value) > field.max_items:
            self.refuse(path, f"has {len(value)} entries; the most is {field.max_items}")
            return []
        out: list[str] = []
        for index, entry in enumerate(value):
            entry_path = f"{path}[{index}]"
            if field.kind is Kind.LIST:
                if entry is None or (isinstance(entry, str) and not entry.strip()):
                    continue
                text = self.text(entry_path, field, entry)
                if text:
                    out.append(text)
            elif field.kind is Kind.ENUM_LIST:
                if not isinstance(entry, str) or entry not in field.values:
                    self.refuse(entry_path, f"{_quote(entry)} is not one of {', '.join(field.values)}")
                elif entry not in out:
                    out.append(entry)
            else:
                key = self.reference(entry_path, field, entry, keys)
                # The store keeps each reference once; so does the normalised document.
                if key is not None and key not in out:
                    out.append(key)
        return out

    # -- items and the plan

    def gather_keys(self, plan: dict[str, Any], entities: tuple[Entity, ...]) -> dict[str, set[str]]:
        """Every kind's keys, checked for form and uniqueness, so that references can be
        checked against them whatever the order of the lists."""
        keys: dict[str, set[str]] = {}
        for entity in entities:
            seen: dict[str, int] = {}
            records = plan.get(entity.collection)
            if isinstance(records, list) and len(records) <= entity.max_items:
                for index, record in enumerate(records):
                    path = f"plan.{entity.collection}[{index}].key"
                    if not isinstance(record, dict):
                        continue
                    key = record.get("key")
                    if key is None or key == "":
                        self.refuse(path, f"is required: every {entity.label.lower()} needs a key")
                    elif problem := key_problem(key):
                        self.refuse(path, f"{_quote(key)} {problem}")
                    elif key in seen:
                        self.refuse(path, f"{_quote(key)} is already the key of plan.{entity.collection}[{seen[key]}]")
                    else:
                        seen[key] = index
            keys[entity.name] = set(seen)
        return keys

    def item(self, path: str, entity: Entity, record: Any, keys: dict[str, set[str]]) -> dict[str, Any] | None:
        if not isinstance(record, dict):
            self.refuse(path, f"expected an object, found {_type_name(record)}")
            return None
        known = ("key", *entity.field_names)
        for name in record:
            if name not in known:
                self.refuse(_member(path, name), _unknown(name, known))
        out: dict[str, Any] = {"key": record.get("key")}
        for f in entity.fields:
            out[f.name] = self.field(f"{path}.{f.name}", f, record.get(f.name), keys)
        return out

    def plan(self, plan: Any) -> dict[str, Any]:
        if not isinstance(plan, dict):
            self.refuse("plan", f"expected an object, found {_type_name(plan)}")
            return {}
        # Read at call time, so that a field added to the declaration is part of the format.
        plan_fields: tuple[Field, ...] = declaration.PLAN_FIELDS
        entities: tuple[Entity, ...] = declaration.ENTITIES
        known = [f.name for f in plan_fields] + [e.collection for e in entities]
        for name in plan:
            if name not in known:
                self.refuse(_member("plan", name), _unknown(name, known))

        keys = self.gather_keys(plan, entities)
        out: dict[str, Any] = {f.name: self.field(f"plan.{f.name}", f, plan.get(f.name), keys) for f in plan_fields}
        start, end = out.get("period_start"), out.get("period_end")
        if start and end and end < start:  # ISO dates sort as text
            self.refuse("plan.period_end", f"{end} is before the plan starts ({start})")

        for entity in entities:
            path = f"plan.{entity.collection}"
            records = plan.get(entity.collection)
            if records is None:
                records = []
            if not isinstance(records, list):
                self.refuse(path, f"expected a list, found {_type_name(records)}")
                records = []
            elif len(records) > entity.max_items:
                self.refuse(path, f"has {len(records)} items; the most is {entity.max_items}")
                records = []
            items = [self.item(f"{path}[{i}]", entity, record, keys) for i, record in enumerate(records)]
            out[entity.collection] = [item for item in items if item is not None]
        return out


def check_document(data: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The normalised plan dict and the problems found (empty when the document is valid).

    Normalised means: every declared field present, in declaration order; text stripped;
    empty text and empty optional values as the format writes them (null, [] or false);
    whole numbers without a fraction; each reference listed once.
    """
    checker = _Checker()
    if not isinstance(data, dict):
        checker.refuse("document", f"expected an object with format, version and plan, found {_type_name(data)}")
        return {}, checker.all_problems()
    for name in data:
        if name not in ("format", "version", "plan"):
            checker.refuse(_member("", name), _unknown(name, ("format", "version", "plan")))
    fmt, version = data.get("format"), data.get("version")
    if fmt != declaration.FORMAT_NAME:
        found = "nothing" if fmt is None else _quote(fmt)
        checker.refuse("format", f'expected "{declaration.FORMAT_NAME}", found {found}: this is not a plan document')
    elif isinstance(version, bool) or not isinstance(version, int):
        checker.refuse("version", f"expected the number {declaration.FORMAT_VERSION}, found {_type_name(version)}")
    elif version != declaration.FORMAT_VERSION:
        newer = " (made by a newer Planner)" if version > declaration.FORMAT_VERSION else ""
        checker.refuse(
            "version",
            f"version {version}{newer} cannot be read; this Planner reads version {declaration.FORMAT_VERSION}",
        )
    if checker.problems:
        # Without the right format and version, the rest cannot be read with any confidence.
        return {}, checker.all_problems()
    if "plan" not in data:
        checker.refuse("plan", "is required")
        return {}, checker.all_problems()
    plan = checker.plan(data["plan"])
    return plan, checker.all_problems()


def validate_document(data: Any) -> dict[str, Any]:
    """The normalised plan dict of a valid parsed document; raises `DocumentRefused` otherwise."""
    plan, problems = check_document(data)
    if problems:
        raise DocumentRefused(problems)
    return plan
