"""The registry of checks: `check` turns a body (plan -> `Outcome`) into a check
(plan -> `Finding`) and records it under its id, with its title.

It also holds the gaps several checks meet and say in the same words, so that a page that
shows those checks together says the gap once (`planner.coach.report.grouped`).
"""

from __future__ import annotations

from collections.abc import Callable

from planner.coach.checks.findings import Finding, Outcome, PlanDoc, Status
from planner.coach.checks.wording import plural, step_of
from planner.coach.fields import PRACTICE, SEGMENT

Check = Callable[[PlanDoc], Finding]
Body = Callable[[PlanDoc], Outcome]

# Every check, by id, as the modules register them; `planner.coach.checks.CHECKS` puts them
# in the report's order.
REGISTERED: dict[str, Check] = {}
TITLES: dict[str, str] = {}


def check(check_id: str, title: str) -> Callable[[Body], Check]:
    """Register a check under its id and title."""

    def register(body: Body) -> Check:
        def run(plan: PlanDoc) -> Finding:
            o = body(plan)
            return Finding(check_id, o.status, title, o.message, o.next_step, o.step_slug, o.items)

        run.__name__ = body.__name__
        run.__qualname__ = body.__qualname__
        run.__doc__ = body.__doc__
        if check_id in REGISTERED:
            raise ValueError(f"two checks are registered as {check_id!r}")
        REGISTERED[check_id] = run
        TITLES[check_id] = title
        return run

    return register


# ---------------------------------------------------------------- gaps several checks meet


def no_segments() -> Outcome:
    return Outcome(
        Status.FAIL,
        f"The plan names no {plural(SEGMENT)} yet, so nobody in particular is being talked with.",
        step_of(SEGMENT),
        "Name the groups you most need to reach.",
    )


def no_practices() -> Outcome:
    return Outcome(
        Status.FAIL,
        f"The plan has no {plural(PRACTICE)} yet: no time goes to conversation, to passing on what others say, "
        "or to relationships.",
        step_of(PRACTICE),
        "Describe how the team will take part each week: answering questions, passing on others' news, "
        "hosting a conversation.",
    )
