"""Who does what: for each person the practices they do, where they listen, and the hours the
plan asks of them against the hours they give (`who_does_what`).

The figures are the coach's (`planner.coach.load.loads`, which its ``capacity`` check judges), so
the table and the coach agree on who is over, and hours are said the coach's way (`hours_text`).
"""

from __future__ import annotations

from planner.coach.load import EPSILON, loads
from planner.documents.content import words
from planner.documents.content.answers import SHORT_NAME_CHARS, Answer, Known, PlanDoc, Table, column, row
from planner.domain import Kind, entity
from planner.plans.view import items, names
from planner.text import hours_of, hours_text, shorten

PERSON = entity("person")
PERSON_HOURS = PERSON.field("hours_per_week")
PRACTICE = entity("practice")
PRACTICE_HOURS = PRACTICE.field("hours_per_week")
LISTENING_TARGET = entity("listening_target")

COLUMNS = [
    column("person", PERSON.label),
    column("practices", PRACTICE.label_plural, Kind.LIST),
    column("listening", LISTENING_TARGET.label_plural, Kind.LIST),
    column("hours", words.HOURS_A_WEEK, Kind.NUMBER),
]


def hours_cell(hours: float, available: float | None, over: float) -> str:
    """The hours cell, "3 h of 4 h", or "5 h of 4 h: over by 1 h"; "3 h" when the person gives
    no hours to weigh them against."""
    if available is None:
        return hours_text(hours)
    said = f"{hours_text(hours)} of {hours_text(available)}"
    return f"{said}: over by {hours_text(over)}" if over else said


def who_does_what(doc: PlanDoc, known: Known | None = None) -> Table | None:
    """For each person: the practices they do, where they listen, and the hours the plan asks of
    them against the hours they can give, "12 h of 8 h", flagged when it is more.  A last row
    gathers practices and listening nobody has taken on.  None when the plan has no practices
    and no listening targets yet."""
    known = known or names(doc)
    practices, targets = items(doc, PRACTICE), items(doc, LISTENING_TARGET)
    if not practices and not targets:
        return None
    people, practice_names, target_names = known[PERSON.name], known[PRACTICE.name], known[LISTENING_TARGET.name]
    rows: list[list[Answer]] = []
    marks: list[str] = []
    for load in loads(doc):
        values = [
            people[load.person] if load.person else words.NOBODY,
            [shorten(practice_names[k], SHORT_NAME_CHARS) for k in load.practices],
            [shorten(target_names[k], SHORT_NAME_CHARS) for k in load.listening],
            hours_cell(load.hours, load.available, load.over),
        ]
        rows.append(row(COLUMNS, values))
        marks.append("over" if load.is_over else "")
    # A practice or a person without hours adds none, as the coach counts them.
    needed = sum(hours_of(PRACTICE_HOURS.of(p)) or 0.0 for p in practices)
    stated = [h for p in items(doc, PERSON) if (h := hours_of(PERSON_HOURS.of(p))) is not None]
    available = sum(stated) if stated else None
    over = needed - available if available is not None and needed > available + EPSILON else 0.0
    return Table(list(COLUMNS), rows, [words.TOTAL, "", "", hours_cell(needed, available, over)], marks)
