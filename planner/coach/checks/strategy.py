"""Strategy before tools: every social objective serves one of the organization's goals, and
every practice serves an objective (check ``strategy_first``)."""

from __future__ import annotations

from planner.coach.checks.findings import Outcome, PlanDoc, Problem, Status, combine
from planner.coach.checks.reading import item_ref, item_refs, items, keys
from planner.coach.checks.registry import check
from planner.coach.checks.wording import display, names, plural, singular, step_of, verb
from planner.coach.fields import GOAL, OBJECTIVE, OBJECTIVE_GOAL, PRACTICE, PRACTICE_OBJECTIVE


@check("strategy_first", "Strategy before tools")
def strategy_first(plan: PlanDoc) -> Outcome:
    """Every objective serves a goal and every practice serves an objective."""
    goals = keys(plan, GOAL)
    objectives = items(plan, OBJECTIVE)
    practices = items(plan, PRACTICE)
    if not objectives:
        message = (
            f"The plan has no {plural(GOAL)} or {plural(OBJECTIVE)} yet, so nothing says why the team is online."
            if not goals
            else f"No {singular(OBJECTIVE)} serves the organization's goals yet."
        )
        return Outcome(
            Status.FAIL,
            message,
            step_of(OBJECTIVE),
            "Write the organization's main goal, then one social objective that serves it.",
        )
    objective_keys = {o.get("key") for o in objectives}
    orphans = item_refs(OBJECTIVE, (o for o in objectives if OBJECTIVE_GOAL.of(o) not in goals))
    strays = item_refs(PRACTICE, (p for p in practices if PRACTICE_OBJECTIVE.of(p) not in objective_keys))
    problems = []
    if orphans:
        problems.append(
            Problem(
                f"{names(orphans)} {verb(orphans, 'serves', 'serve')} no goal.",
                f"Tie {display(orphans[0])} to one of the organization's goals.",
                step_of(OBJECTIVE),
                orphans,
            )
        )
    if strays:
        problems.append(
            Problem(
                f"{names(strays)} {verb(strays, 'serves', 'serve')} no objective.",
                f"Say which objective {display(strays[0])} serves, or drop it: activity without a reason "
                "slides back into broadcast.",
                step_of(PRACTICE),
                strays,
            )
        )
    if not practices:
        problems.append(
            Problem(
                "No practice serves the objectives yet.",
                f"Add a practice that serves {display(item_ref(OBJECTIVE, objectives[0]))}.",
                step_of(PRACTICE),
            )
        )
    if not problems:
        return Outcome(
            Status.PASS,
            "Every objective serves a goal, and every practice serves an objective.",
            step_of(OBJECTIVE),
        )
    broken = len(orphans) == len(objectives) or bool(practices and len(strays) == len(practices))
    return combine(Status.FAIL if broken else Status.WARN, problems)
