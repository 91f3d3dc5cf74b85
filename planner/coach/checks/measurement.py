"""Measure engagement: every objective has a metric, and some metric counts people taking
part rather than people reached (check ``measure_engagement``)."""

from __future__ import annotations

from planner.coach.checks.findings import Outcome, PlanDoc, Problem, Status, combine
from planner.coach.checks.reading import item_refs, items
from planner.coach.checks.registry import check
from planner.coach.checks.wording import display, names, plural, singular, step_of, verb
from planner.coach.fields import ENGAGEMENT, METRIC, METRIC_KIND, METRIC_OBJECTIVE, OBJECTIVE


@check("measure_engagement", "Measure engagement")
def measure_engagement(plan: PlanDoc) -> Outcome:
    """Every objective has a metric, and some metric counts engagement."""
    objectives = items(plan, OBJECTIVE)
    metrics = items(plan, METRIC)
    if not metrics:
        return Outcome(
            Status.FAIL,
            f"The plan has no {plural(METRIC)} yet, so nobody will know whether it works.",
            step_of(METRIC),
            "Choose one figure per objective, starting with one that counts people taking part: "
            "replies, shares, questions answered.",
            item_refs(OBJECTIVE, objectives),
        )
    measured = {METRIC_OBJECTIVE.of(m) for m in metrics}
    unmeasured = item_refs(OBJECTIVE, (o for o in objectives if o.get("key") not in measured))
    engaged = any(METRIC_KIND.of(m) == ENGAGEMENT for m in metrics)
    problems = []
    if not objectives:
        problems.append(
            Problem(
                "There are no objectives yet for the metrics to measure.",
                "Write the social objectives the metrics should tell you about.",
                step_of(OBJECTIVE),
            )
        )
    if unmeasured:
        problems.append(
            Problem(
                f"{names(unmeasured)} {verb(unmeasured, 'has', 'have')} no {singular(METRIC)}.",
                f"Add a metric for {display(unmeasured[0])}.",
                step_of(METRIC),
                unmeasured,
            )
        )
    if not engaged:
        problems.append(
            Problem(
                "No metric counts engagement: reach says who saw, not who took part.",
                "Add an engagement metric, such as replies, shares or conversations per month.",
                step_of(METRIC),
            )
        )
    if not problems:
        return Outcome(
            Status.PASS,
            "Every objective has a metric, and the plan counts engagement, not only reach.",
            step_of(METRIC),
        )
    broken = not engaged and bool(objectives) and len(unmeasured) == len(objectives)
    return combine(Status.FAIL if broken else Status.WARN, problems)
