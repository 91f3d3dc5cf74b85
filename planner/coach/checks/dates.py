"""Review and learn (check ``reflect``): the plan sets a review often enough to learn from,
and its milestones sit inside the plan's period and are done by their dates, judged on the
day the coach runs (`planner.coach.checks.reading.today`; see `rules.MILESTONES`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from planner.coach import rules
from planner.coach.checks.findings import Item, Outcome, PlanDoc, Problem, Status, combine
from planner.coach.checks.reading import item_ref, item_refs, today
from planner.coach.checks.registry import check
from planner.coach.checks.wording import day, display, step_of, step_of_field
from planner.coach.fields import MILESTONE, MILESTONE_DONE, MILESTONE_DUE, PERIOD_END, PERIOD_START, REVIEW_CADENCE
from planner.plans.view import items as listed

# A slow cadence the declaration no longer offers would let every plan pass unnoticed.
for _cadence in rules.SLOW_REVIEW_CADENCES:
    REVIEW_CADENCE.choice(_cadence)


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _milestone_problems(plan: PlanDoc) -> list[Problem]:
    """Milestones dated outside the plan's period, and milestones past due but not done
    (judged on `today()`: see `rules.MILESTONES`)."""
    start, end = _iso(PERIOD_START.of(plan)), _iso(PERIOD_END.of(plan))
    outside: list[tuple[Item, str]] = []
    late: list[tuple[Item, str]] = []
    for m in listed(dict(plan), MILESTONE):  # in the declared order: by date
        due = _iso(MILESTONE_DUE.of(m))
        if due is None:
            continue
        name = display(item_ref(MILESTONE, m))
        if start and due < start:
            outside.append((m, f"{name} is due on {day(due)}, before the plan starts ({day(start)})"))
        elif end and due > end:
            outside.append((m, f"{name} is due on {day(due)}, after the plan ends ({day(end)})"))
        if due < today() and not MILESTONE_DONE.of(m):
            late.append((m, f"{name} was due on {day(due)} and is not done"))
    step = step_of(MILESTONE)
    problems = []
    for found, advice in (
        (outside, "Move {name} inside the plan's period, or change the period."),
        (late, "Mark {name} done if it is, or give it a new date and say why it slipped."),
    ):
        if not found:
            continue
        said = [text for _, text in found[: rules.NAMES_IN_MESSAGE]]
        rest = len(found) - len(said)
        message = "; ".join(said) + (f"; and {rest} more." if rest else ".")
        refs = item_refs(MILESTONE, (m for m, _ in found))
        problems.append(Problem(message, advice.format(name=display(refs[0])), step, refs))
    return problems


@check("reflect", "Review and learn")
def reflect(plan: PlanDoc) -> Outcome:
    """The review cadence is set (and is not too slow to learn from), and the milestones sit
    inside the plan's period and are done by their dates (`rules.MILESTONES`)."""
    cadence = REVIEW_CADENCE.of(plan)
    step = step_of_field(REVIEW_CADENCE)
    milestones = _milestone_problems(plan)
    if cadence not in REVIEW_CADENCE.values:
        return combine(
            Status.FAIL,
            [
                Problem(
                    "The plan sets no review, so nobody stops to learn what works.",
                    "Choose how often the team reviews the plan and its figures: monthly suits a first year.",
                    step,
                ),
                *milestones,
            ],
        )
    label = REVIEW_CADENCE.choice_label(cadence).lower()
    problems = list(milestones)
    if cadence in rules.SLOW_REVIEW_CADENCES:
        problems.insert(
            0,
            Problem(
                f"A {label} review comes too late to learn from the first 90 days.",
                "Review monthly or quarterly, at least while the pilot runs.",
                step,
            ),
        )
    if problems:
        return combine(Status.WARN, problems)
    return Outcome(Status.PASS, f"The team reviews the plan {label}, and the milestones are on time.", step)
