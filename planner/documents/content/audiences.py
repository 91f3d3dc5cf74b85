"""Audiences and how we reach them: one row per audience, primary ones first, with the practices
that reach it and where we listen to it (`reach`)."""

from __future__ import annotations

from typing import Any

from planner.documents.content import words
from planner.documents.content.answers import SHORT_NAME_CHARS, Answer, Known, PlanDoc, Table, column, row, shown_text
from planner.domain import Kind, entity
from planner.plans.view import items
from planner.text import shorten

SEGMENT = entity("segment")
SEGMENT_PRIORITY = SEGMENT.field("priority")
PRACTICE = entity("practice")
PRACTICE_MODE = PRACTICE.field("mode")
PRACTICE_SEGMENTS = PRACTICE.field("segments")
LISTENING_TARGET = entity("listening_target")
TARGET_SEGMENTS = LISTENING_TARGET.field("segments")

# Audiences in the declared order of their priorities (primary first); those without one last.
_PRIORITY_ORDER = {value: i for i, value in enumerate(SEGMENT_PRIORITY.values)}
COLUMNS = [
    column("audience", SEGMENT.label),
    SEGMENT_PRIORITY,
    column("practices", words.PRACTICES_THAT_REACH, Kind.LIST),
    column("listening", words.WHERE_WE_LISTEN, Kind.LIST),
]


def reach(doc: PlanDoc, known: Known) -> Table | None:
    """One row per audience, primary ones first: the practices that reach it (with their mode)
    and where we listen to it.  A practice aimed at no audience gets a last row of its own, so
    the gap shows.  None when the plan has no audiences and no practices yet.

    A grid of audiences against practices would be unreadable at the sizes real plans reach
    (sixty audiences, a hundred and fifty practices), so each row lists its practices instead."""
    segments, practices = items(doc, SEGMENT), items(doc, PRACTICE)
    if not segments and not practices:
        return None
    targets = items(doc, LISTENING_TARGET)
    practice_names, target_names = known[PRACTICE.name], known[LISTENING_TARGET.name]

    def practice_name(p: dict[str, Any]) -> str:
        mode = shown_text(PRACTICE_MODE, p, known)
        if not mode:
            return shorten(practice_names[p["key"]], SHORT_NAME_CHARS)
        # Shorter still, so that the name and its mode share a line.
        return f"{shorten(practice_names[p['key']], SHORT_NAME_CHARS - len(mode) - 3)} ({mode})"

    def audience_row(
        name: str, priority: str, reached: list[dict[str, Any]], heard: list[dict[str, Any]] | None
    ) -> list[Answer]:
        return row(
            COLUMNS,
            [
                name,
                priority,
                [practice_name(p) for p in reached] or [words.NONE_YET],
                # None: not an audience, so there is nowhere to listen to it.
                []
                if heard is None
                else [shorten(target_names[t["key"]], SHORT_NAME_CHARS) for t in heard] or [words.NONE_YET],
            ],
        )

    ordered = sorted(segments, key=lambda s: _PRIORITY_ORDER.get(SEGMENT_PRIORITY.of(s) or "", len(_PRIORITY_ORDER)))
    rows = [
        audience_row(
            known[SEGMENT.name][s["key"]],
            shown_text(SEGMENT_PRIORITY, s, known),
            [p for p in practices if s["key"] in (PRACTICE_SEGMENTS.of(p) or [])],
            [t for t in targets if s["key"] in (TARGET_SEGMENTS.of(t) or [])],
        )
        for s in ordered
    ]
    segment_keys = set(known[SEGMENT.name])
    aimless = [p for p in practices if not segment_keys & set(PRACTICE_SEGMENTS.of(p) or [])]
    if aimless:
        rows.append(audience_row(words.NO_AUDIENCE, "", aimless, None))
    return Table(list(COLUMNS), rows)
