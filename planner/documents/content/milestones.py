"""The timeline: the milestones by due date, grouped by month, each with who sees it through and
the day of the plan it falls on (`Timeline`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from planner.documents.content import words
from planner.documents.content.answers import Known, PlanDoc, shown_text
from planner.domain import entity, plan_field
from planner.plans.view import items, title_of

MILESTONE = entity("milestone")
DUE = MILESTONE.field("due")
OWNER = MILESTONE.field("owner")
DONE = MILESTONE.field("done")
PERIOD_START = plan_field("period_start")


@dataclass(frozen=True)
class TimelineEntry:
    title: str
    when: str  # "8 March 2027", or ""
    day: str  # "Day 8", counted from the plan's start, or ""
    owner: str
    done: bool

    @property
    def facts(self) -> list[str]:
        return [fact for fact in (self.when, self.day, self.owner, words.DONE if self.done else "") if fact]


@dataclass(frozen=True)
class Month:
    label: str  # "March 2027", or UNDATED
    entries: list[TimelineEntry]


@dataclass(frozen=True)
class Timeline:
    months: list[Month]
    start: str  # the plan's first day in words, or ""

    @property
    def lead(self) -> str:
        if self.start:
            return f"{words.TIMELINE_LEAD} Day 1 is {self.start}, when the plan starts."
        return words.TIMELINE_LEAD

    @property
    def empty(self) -> bool:
        return not self.months


def _day(due: date, start: date | None) -> str:
    if start is None:
        return ""
    days = (due - start).days
    if days < 0:
        return f"{-days} day{'s' if days < -1 else ''} before the start"
    return f"Day {days + 1}"


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def timeline(doc: PlanDoc, known: Known) -> Timeline:
    """The milestones by due date, grouped by month; those without a date come last, in plan order."""
    start = _iso(PERIOD_START.of(doc))
    dated: list[tuple[date, TimelineEntry]] = []
    undated: list[TimelineEntry] = []
    for m in items(doc, MILESTONE):
        due = _iso(DUE.of(m))
        entry = TimelineEntry(
            title=title_of(MILESTONE, m),
            when=shown_text(DUE, m, known) if due else "",
            day=_day(due, start) if due else "",
            owner=shown_text(OWNER, m, known),
            done=bool(DONE.of(m)),
        )
        if due:
            dated.append((due, entry))
        else:
            undated.append(entry)
    months: list[Month] = []
    for due, entry in sorted(dated, key=lambda pair: pair[0]):
        label = f"{due:%B %Y}"
        if not months or months[-1].label != label:
            months.append(Month(label, []))
        months[-1].entries.append(entry)
    if undated:
        months.append(Month(words.UNDATED, undated))
    return Timeline(months, shown_text(PERIOD_START, doc, known) if start else "")
