"""Conversation, not broadcast: where the practice hours go, mode by mode (`balance`), and
the checks that weigh it: ``two_way`` (most hours in social modes) and ``amplify_others``
(some practice passes on what others say)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.coach import rules
from planner.coach.checks.findings import Item, ItemRef, Outcome, PlanDoc, Status
from planner.coach.checks.reading import at_least, item_refs, items
from planner.coach.checks.registry import check, no_practices
from planner.coach.checks.wording import display, label, names, percent_text, step_of, verb
from planner.coach.fields import AMPLIFY, BROADCAST, PRACTICE, PRACTICE_HOURS, PRACTICE_MODE
from planner.coach.load import EPSILON
from planner.text import hours_of, hours_text

# The key `Balance.hours_by_mode` uses for practices whose mode nobody chose.
UNSET_MODE = "unset"
MODES = PRACTICE_MODE.values
SOCIAL_MODES = tuple(m for m in MODES if m != BROADCAST)


def mode_of(practice: Item) -> Any:
    """A practice's declared mode, or `UNSET_MODE` when nobody chose one (or it is not declared)."""
    mode = PRACTICE_MODE.of(practice)
    return mode if mode in MODES else UNSET_MODE


@dataclass(frozen=True)
class Balance:
    """Practice hours by mode: where the plan sits between broadcast and conversation.

    A practice without hours counts as `rules.UNSTATED_PRACTICE_HOURS` so that its mode still
    shows; practices whose mode is unset count under `UNSET_MODE` and never as conversation.
    """

    hours_by_mode: dict[str, float] = field(default_factory=dict)  # MODES order, then UNSET_MODE
    practices: int = 0
    without_hours: tuple[ItemRef, ...] = ()
    without_mode: tuple[ItemRef, ...] = ()

    @property
    def total_hours(self) -> float:
        return sum(self.hours_by_mode.values())

    @property
    def social_hours(self) -> float:
        return sum(self.hours_by_mode.get(m, 0.0) for m in SOCIAL_MODES)

    @property
    def broadcast_hours(self) -> float:
        return self.hours_by_mode.get(BROADCAST, 0.0)

    @property
    def unset_hours(self) -> float:
        return self.hours_by_mode.get(UNSET_MODE, 0.0)

    @property
    def social_share(self) -> float | None:
        """Share of all practice hours in social modes, 0..1; None when there are no hours."""
        total = self.total_hours
        return self.social_hours / total if total > EPSILON else None


def balance(plan: PlanDoc) -> Balance:
    """Practice hours by mode, in the declared order of the modes."""
    hours = dict.fromkeys((*MODES, UNSET_MODE), 0.0)
    practices = items(plan, PRACTICE)
    for p in practices:
        stated = hours_of(PRACTICE_HOURS.of(p))
        hours[mode_of(p)] += rules.UNSTATED_PRACTICE_HOURS if stated is None else stated
    return Balance(
        hours_by_mode=hours,
        practices=len(practices),
        without_hours=item_refs(PRACTICE, (p for p in practices if hours_of(PRACTICE_HOURS.of(p)) is None)),
        without_mode=item_refs(PRACTICE, (p for p in practices if mode_of(p) == UNSET_MODE)),
    )


@check("two_way", "Two-way, not broadcast")
def two_way(plan: PlanDoc) -> Outcome:
    """At least `rules.SOCIAL_SHARE_PASS` of practice hours go to social modes."""
    practices = items(plan, PRACTICE)
    if not practices:
        return no_practices()
    b = balance(plan)
    share = b.social_share
    if share is None:
        return Outcome(
            Status.WARN,
            "Every practice has 0 hours, so the balance between broadcast and conversation can't be weighed.",
            step_of(PRACTICE),
            f"Give each practice the {label(PRACTICE_HOURS)} it really takes.",
        )
    notes = []
    if b.without_hours:
        notes.append(
            f"{names(b.without_hours)} {verb(b.without_hours, 'has', 'have')} no hours and "
            f"{verb(b.without_hours, 'counts', 'count')} as {hours_text(rules.UNSTATED_PRACTICE_HOURS)} a week."
        )
    if b.without_mode:
        notes.append(
            f"{names(b.without_mode)} {verb(b.without_mode, 'has', 'have')} no {label(PRACTICE_MODE)}, so "
            f"{verb(b.without_mode, 'it', 'they')} can't count as conversation."
        )
    summary = (
        f"{percent_text(share)} of practice hours go to conversation "
        f"({hours_text(b.social_hours)} of {hours_text(b.total_hours)} a week)."
    )
    if at_least(share, rules.SOCIAL_SHARE_PASS):
        return Outcome(Status.PASS, " ".join([summary, *notes]), step_of(PRACTICE))
    one_way = [p for p in practices if mode_of(p) in (BROADCAST, UNSET_MODE)]
    at_fault = item_refs(PRACTICE, one_way)
    goal = percent_text(rules.SOCIAL_SHARE_PASS)
    if at_fault:
        next_step = (
            f"Move some of the time from {display(at_fault[0])} into answering questions or passing on "
            f"what others say, until conversation has at least {goal} of the hours."
        )
    else:
        next_step = f"Add conversation: a respond or amplify practice, until it has at least {goal} of the hours."
    status = Status.WARN if at_least(share, rules.SOCIAL_SHARE_FAIL_BELOW) else Status.FAIL
    message = " ".join([f"Only {summary[0].lower()}{summary[1:]}", f"The goal is {goal}.", *notes])
    return Outcome(status, message, step_of(PRACTICE), next_step, at_fault)


@check("amplify_others", "Pass on what others say")
def amplify_others(plan: PlanDoc) -> Outcome:
    """At least one practice amplifies others."""
    practices = items(plan, PRACTICE)
    if not practices:
        return no_practices()
    amplifying = [p for p in practices if PRACTICE_MODE.of(p) == AMPLIFY]
    if not amplifying:
        return Outcome(
            Status.FAIL,
            "No practice passes on what others say: the plan only talks about the organization.",
            step_of(PRACTICE),
            "Add an amplify practice: each week, share the best posts of partners, members or neighbours.",
        )
    refs = item_refs(PRACTICE, amplifying)
    if all(hours_of(PRACTICE_HOURS.of(p)) == 0 for p in amplifying):
        return Outcome(
            Status.WARN,
            f"{names(refs)} {verb(refs, 'passes', 'pass')} on what others say, but with 0 hours a week.",
            step_of(PRACTICE),
            f"Give {display(refs[0])} some time each week.",
            refs,
        )
    return Outcome(
        Status.PASS,
        f"{names(refs)} {verb(refs, 'passes', 'pass')} on what others say.",
        step_of(PRACTICE),
    )
