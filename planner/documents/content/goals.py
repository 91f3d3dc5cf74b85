"""From goals to practices: each goal, the objectives that serve it, and for each objective the
metrics that measure it and the practices that serve it (`Chain`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.documents.content import words
from planner.documents.content.answers import Known, PlanDoc, shown_list, shown_text
from planner.domain import entity
from planner.plans.view import items, title_of
from planner.text import hours_text

GOAL = entity("goal")
OBJECTIVE = entity("objective")
PRACTICE = entity("practice")
METRIC = entity("metric")

OBJECTIVE_GOAL = OBJECTIVE.field("goal")
OBJECTIVE_KIND = OBJECTIVE.field("kind")
PRACTICE_OBJECTIVE = PRACTICE.field("objective")
PRACTICE_MODE = PRACTICE.field("mode")
PRACTICE_OWNERS = PRACTICE.field("owners")
PRACTICE_HOURS = PRACTICE.field("hours_per_week")
METRIC_OBJECTIVE = METRIC.field("objective")
METRIC_NAME = METRIC.field("name")
METRIC_TARGET = METRIC.field("target")


@dataclass(frozen=True)
class PracticeLine:
    """A practice in the chain: what is done, and the facts a reader weighs it by."""

    title: str
    mode: str
    owners: list[str]
    hours: str  # "2 h a week", or ""

    @property
    def facts(self) -> list[str]:
        return [fact for fact in (self.mode, ", ".join(self.owners) or words.NOBODY, self.hours) if fact]

    @property
    def summary(self) -> str:
        """The facts on one line: "Respond · Dana Whitfield, Tom Brennan · 3 h a week"."""
        return " \N{MIDDLE DOT} ".join(self.facts)


@dataclass(frozen=True)
class ObjectiveLine:
    title: str
    kind: str  # the kind of objective, by its label
    measures: list[str]  # the metrics that measure it, with their targets
    practices: list[PracticeLine]


@dataclass(frozen=True)
class GoalLine:
    title: str
    objectives: list[ObjectiveLine]
    placeholder: bool = False  # the group of objectives whose goal is missing, not a goal of the plan


@dataclass(frozen=True)
class Chain:
    goals: list[GoalLine]
    untied: list[PracticeLine]  # practices that serve no objective (yet)

    @property
    def empty(self) -> bool:
        return not self.goals and not self.untied


def practice_hours(practice: dict[str, Any]) -> str:
    """ "2 h a week", or "" for a practice without hours, as the coach says them (`hours_text`)."""
    hours = hours_text(PRACTICE_HOURS.of(practice))
    return f"{hours} {words.A_WEEK}" if hours else ""


def _practice_line(practice: dict[str, Any], known: Known) -> PracticeLine:
    return PracticeLine(
        title=title_of(PRACTICE, practice),
        mode=shown_text(PRACTICE_MODE, practice, known),
        owners=shown_list(PRACTICE_OWNERS, practice, known),
        hours=practice_hours(practice),
    )


def _measure(metric: dict[str, Any]) -> str:
    name = METRIC_NAME.of(metric) or ""
    target = METRIC_TARGET.of(metric)
    return f"{name} (target: {target})" if target else name


def chain(doc: PlanDoc, known: Known) -> Chain:
    """Each goal with the objectives that serve it, and each objective with its practices and metrics.

    A reference to an item that is not there counts as no reference: its objective or practice
    is listed as not yet tied, rather than lost."""
    goal_keys = {g["key"] for g in items(doc, GOAL)}
    objective_keys = {o["key"] for o in items(doc, OBJECTIVE)}
    practices: dict[str | None, list[PracticeLine]] = {}
    for p in items(doc, PRACTICE):
        serves = PRACTICE_OBJECTIVE.of(p)
        practices.setdefault(serves if serves in objective_keys else None, []).append(_practice_line(p, known))
    measures: dict[str, list[str]] = {}
    for m in items(doc, METRIC):
        measures.setdefault(METRIC_OBJECTIVE.of(m) or "", []).append(_measure(m))

    objectives: dict[str | None, list[ObjectiveLine]] = {}
    for o in items(doc, OBJECTIVE):
        line = ObjectiveLine(
            title=title_of(OBJECTIVE, o),
            kind=shown_text(OBJECTIVE_KIND, o, known),
            measures=measures.get(o["key"], []),
            practices=practices.get(o["key"], []),
        )
        serves = OBJECTIVE_GOAL.of(o)
        objectives.setdefault(serves if serves in goal_keys else None, []).append(line)

    goals = [GoalLine(title_of(GOAL, g), objectives.get(g["key"], [])) for g in items(doc, GOAL)]
    if None in objectives:
        goals.append(GoalLine(words.NO_GOAL, objectives[None], placeholder=True))
    return Chain(goals, practices.get(None, []))
