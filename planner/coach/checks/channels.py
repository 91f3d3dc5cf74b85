"""No abandoned accounts (check ``focus``): every channel in use has an owner and a practice
that posts or answers there."""

from __future__ import annotations

from planner.coach.checks.findings import Outcome, PlanDoc, Problem, Status, combine
from planner.coach.checks.reading import item_refs, items, keys
from planner.coach.checks.registry import check
from planner.coach.checks.wording import display, label, names, plural, step_of, verb
from planner.coach.fields import CHANNEL, CHANNEL_OWNER, CHANNEL_STATUS, PERSON, PRACTICE, PRACTICE_CHANNELS, RETIRING


@check("focus", "No abandoned accounts")
def focus(plan: PlanDoc) -> Outcome:
    """Every active or planned channel has an owner and serves at least one practice."""
    channels = items(plan, CHANNEL)
    if not channels:
        return Outcome(
            Status.WARN,
            f"The plan lists no {plural(CHANNEL)}, so the coach can't check that each account has an owner "
            "and a purpose.",
            step_of(CHANNEL),
            "List the accounts you run or plan to open.",
        )
    # An unset status counts as in use: abandoned accounts hide exactly where nobody said.
    live = [c for c in channels if CHANNEL_STATUS.of(c) != RETIRING]
    if not live:
        return Outcome(
            Status.WARN,
            "Every channel is retiring, so the plan runs no account of its own.",
            step_of(CHANNEL),
            "If the team will talk only in other people's spaces, say so in the practices; otherwise keep one account.",
        )
    people = keys(plan, PERSON)
    used = {k for p in items(plan, PRACTICE) for k in PRACTICE_CHANNELS.of(p) or []}
    ownerless = item_refs(CHANNEL, (c for c in live if CHANNEL_OWNER.of(c) not in people))
    idle = item_refs(CHANNEL, (c for c in live if c.get("key") not in used))
    problems = []
    if ownerless:
        problems.append(
            Problem(
                f"{names(ownerless)} {verb(ownerless, 'has', 'have')} no {label(CHANNEL_OWNER)}.",
                f"Give {display(ownerless[0])} an owner, or mark it retiring.",
                step_of(CHANNEL),
                ownerless,
            )
        )
    if idle:
        problems.append(
            Problem(
                f"No practice uses {names(idle)} yet: an account nobody posts to or answers on is abandoned.",
                f"Use {display(idle[0])} in a practice, or mark it retiring.",
                step_of(PRACTICE),
                tuple(r for r in idle if r not in ownerless),
            )
        )
    if not problems:
        return Outcome(
            Status.PASS,
            f"Every active or planned channel has an owner and a practice: {names(item_refs(CHANNEL, live))}.",
            step_of(CHANNEL),
        )
    at_fault = {r.key for p in problems for r in p.items}
    return combine(Status.FAIL if len(at_fault) == len(live) else Status.WARN, problems)
