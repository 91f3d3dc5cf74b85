"""The coach's report: every check's finding, a score from 0 to 100, and the plan's balance.

The score weighs each check by `rules.WEIGHTS` and credits it by `rules.CREDIT` (a pass earns
the full weight, a warning half of it, a failure nothing), as a share of all the weights.
So a plan that passes everything scores 100, and an empty plan, which fails nearly everything,
scores close to 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.coach import rules
from planner.coach.checks import Balance, Finding, PlanDoc, Status, balance, run_all


@dataclass(frozen=True)
class Report:
    """What the coach says about one plan."""

    score: int  # 0..100
    checks: tuple[Finding, ...]  # one per check, in the declared order
    balance: Balance
    plan_title: str = ""

    def finding(self, check_id: str) -> Finding:
        for f in self.checks:
            if f.id == check_id:
                return f
        raise KeyError(check_id)

    @property
    def counts(self) -> dict[str, int]:
        """How many checks pass, warn and fail."""
        return {s.value: sum(1 for f in self.checks if f.status is s) for s in Status}


def score(findings: Sequence[Finding]) -> int:
    """The weighted share of credit earned, rounded to a whole number from 0 to 100."""
    total = sum(rules.WEIGHTS[f.id] for f in findings)
    if not total:
        return 0
    earned = sum(rules.WEIGHTS[f.id] * rules.CREDIT[f.status.value] for f in findings)
    return max(0, min(100, round(100 * earned / total)))


def coach_report(plan: PlanDoc) -> Report:
    """Run every check on a plan document (the interchange format's ``plan`` object)."""
    findings = run_all(plan)
    return Report(
        score=score(findings),
        checks=findings,
        balance=balance(plan),
        plan_title=str(plan.get("title") or ""),
    )


def findings_for_step(report: Report, slug: str, *, include_passed: bool = False) -> list[Finding]:
    """The findings a wizard step should show: those whose fix lives on that step.

    Passing checks are left out unless asked for, since a step's advice is what to do next.
    """
    return [f for f in report.checks if f.step_slug == slug and (include_passed or f.status is not Status.PASS)]


def to_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON data, as `flask plan coach ID` prints it."""
    b = report.balance
    share = b.social_share
    return {
        "score": report.score,
        "checks": [
            {
                "id": f.id,
                "status": f.status.value,
                "title": f.title,
                "message": f.message,
                "next_step": f.next_step,
                "step": f.step_slug,
                "items": [
                    {"entity": r.entity, "key": r.key, "title": r.title, "step": r.step_slug, "anchor": r.anchor}
                    for r in f.items
                ],
            }
            for f in report.checks
        ],
        "balance": {
            "hours_by_mode": dict(b.hours_by_mode),
            "total_hours": b.total_hours,
            "social_hours": b.social_hours,
            "broadcast_hours": b.broadcast_hours,
            "social_share": None if share is None else round(share, 4),
        },
    }
