"""The coach's fourteen checks: plain functions from a plan document to a `Finding`.

A plan document is the interchange format's ``plan`` object, as `planner.plans.store.load_doc`
builds it.  The checks read it defensively (`reading`), so they also judge an imported file or
a half-built test dict.

Each finding says, in the plan's own words, what holds and what doesn't, suggests one concrete
next step, and names the wizard step that fixes it (`Finding.step_slug`).  The items at fault
travel as `ItemRef`s, each with its own step and anchor, so the wizard can link straight to them.
What pass, warn and fail mean, and every threshold, is documented in `planner.coach.rules`.

Where things are:

* `findings`: what a check says (`Status`, `Finding`, `ItemRef`) and how a body says it.
* `reading`: how the checks read a plan, and the day they judge it on.
* `wording`: how they write: names, lists of names, shares, dates, steps.
* `registry`: `check`, which registers a check, and the gaps several checks share.
* one module per group of checks: `strategy`, `listening`, `conversation` (with the plan's
  `balance` of practice hours by mode), `people` (voices, leaders, capacity), `audiences`,
  `measurement`, `policies` (staff access, critics), `dates` (review, milestones), `channels`.
"""

from __future__ import annotations

from datetime import date

from planner.coach.checks import (
    audiences,
    channels,
    conversation,
    dates,
    listening,
    measurement,
    people,
    policies,
    registry,
    strategy,
)
from planner.coach.checks.audiences import is_vague_audience
from planner.coach.checks.conversation import MODES, SOCIAL_MODES, UNSET_MODE, Balance, balance
from planner.coach.checks.findings import Finding, Item, ItemRef, PlanDoc, Status
from planner.coach.checks.reading import judged_on, today
from planner.coach.checks.registry import REGISTERED, Check, check
from planner.coach.checks.wording import display, names, percent_text
from planner.coach.fields import BROADCAST
from planner.coach.load import EPSILON
from planner.text import hours_text

# The report's order, and the picture's: the fourteen checks as the product lists them, from
# why the team is online to whether it learns.  Each module registers its own checks; this is
# the one place that says in which order a reader meets them.
ORDER = (
    "strategy_first",
    "listen_first",
    "two_way",
    "amplify_others",
    "many_voices",
    "leaders_take_part",
    "open_access",
    "where_they_talk",
    "real_audiences",
    "capacity",
    "measure_engagement",
    "ready_for_critics",
    "reflect",
    "focus",
)
if set(ORDER) != set(REGISTERED) or len(ORDER) != len(REGISTERED):
    raise RuntimeError(f"the coach's ORDER {sorted(ORDER)} and its checks {sorted(REGISTERED)} differ")

CHECKS: dict[str, Check] = {check_id: REGISTERED[check_id] for check_id in ORDER}
TITLES: dict[str, str] = {check_id: registry.TITLES[check_id] for check_id in ORDER}


def run_all(plan: PlanDoc, today: date | None = None) -> tuple[Finding, ...]:
    """Every check's finding, in the report's order, as of `today` (by default the real today:
    only the milestone dates depend on it)."""
    with judged_on(today):
        return tuple(run(plan) for run in CHECKS.values())


__all__ = [
    "BROADCAST",
    "CHECKS",
    "EPSILON",
    "MODES",
    "ORDER",
    "SOCIAL_MODES",
    "TITLES",
    "UNSET_MODE",
    "Balance",
    "Check",
    "Finding",
    "Item",
    "ItemRef",
    "PlanDoc",
    "Status",
    "audiences",
    "balance",
    "channels",
    "check",
    "conversation",
    "dates",
    "display",
    "hours_text",
    "is_vague_audience",
    "listening",
    "measurement",
    "names",
    "people",
    "percent_text",
    "policies",
    "registry",
    "run_all",
    "strategy",
    "today",
]
