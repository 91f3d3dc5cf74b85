"""The coach's report: every check's finding, a score from 0 to 100, and the plan's balance.

The score weighs each check by `rules.WEIGHTS` and credits it by `rules.CREDIT` (a pass earns
the full weight, a warning half of it, a failure nothing), as a share of all the weights.
So a plan that passes everything scores 100, and an empty plan, which fails nearly everything,
scores close to 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from planner.coach import rules
from planner.coach.checks import Balance, Finding, ItemRef, PlanDoc, Status, balance, run_all
from planner.coach.fields import TITLE
from planner.domain import REVIEW_STEP, Step
from planner.plans.view import progress


@dataclass(frozen=True)
class Report:
    """What the coach says about one plan."""

    score: int  # 0..100
    checks: tuple[Finding, ...]  # one per check, in the declared order
    balance: Balance
    plan_title: str = ""
    open_steps: tuple[Step, ...] = ()  # the wizard steps not complete yet (the review step aside)

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.checks if f.status is Status.FAIL)

    @property
    def to_look_at(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.checks if f.status is Status.WARN)

    @property
    def ready(self) -> bool:
        """Whether the plan is ready for sign-off: every step complete and no check failing.
        This is the one rule: the document's cover says what it says (`content.plan_status`).
        A warning does not hold the plan back, but the cover names it beside "ready"."""
        return not self.open_steps and not self.failing

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


def coach_report(plan: PlanDoc, *, today: date | None = None) -> Report:
    """Run every check on a plan document (the interchange format's ``plan`` object), as of
    `today` (by default the real today; only milestone dates depend on it)."""
    findings = run_all(plan, today)
    doc = dict(plan)
    return Report(
        score=score(findings),
        checks=findings,
        balance=balance(plan),
        plan_title=str(TITLE.of(plan) or ""),
        # The review step is complete when the others are: naming it as well would say nothing.
        open_steps=tuple(s for s, complete in progress(doc) if not complete and s is not REVIEW_STEP),
    )


def findings_for_step(report: Report, slug: str, *, include_passed: bool = False) -> list[Finding]:
    """The findings a wizard step should show: those whose fix lives on that step.

    Passing checks are left out unless asked for, since a step's advice is what to do next.
    """
    return [f for f in report.checks if f.step_slug == slug and (include_passed or f.status is not Status.PASS)]


@dataclass(frozen=True)
class Advice:
    """One thing the coach says on a page, for one or more checks.

    Where several checks meet the same gap (no segments yet: "listen first", "where they talk"
    and "real audiences"), a page says it once, under all their titles.  It reads like a
    `Finding`, so the templates show either."""

    findings: tuple[Finding, ...]

    @property
    def id(self) -> str:
        return self.findings[0].id

    @property
    def status(self) -> Status:
        """The worst of its checks' statuses."""
        return next(s for s in (Status.FAIL, Status.WARN, Status.PASS) if any(f.status is s for f in self.findings))

    @property
    def title(self) -> str:
        return " · ".join(f.title for f in self.findings)

    @property
    def message(self) -> str:
        """Each check's message, each said once."""
        return " ".join(dict.fromkeys(f.message for f in self.findings))

    @property
    def next_step(self) -> str:
        return self.findings[0].next_step

    @property
    def step_slug(self) -> str:
        return self.findings[0].step_slug

    @property
    def item(self) -> ItemRef | None:
        return next((f.item for f in self.findings if f.item), None)

    @property
    def items(self) -> tuple[ItemRef, ...]:
        return tuple(dict.fromkeys(ref for f in self.findings for ref in f.items))


def grouped(findings: Sequence[Finding]) -> list[Advice]:
    """The findings as a page says them: those with the same next step on the same wizard step
    (the same gap, met by several checks) become one `Advice`, in the place of the first."""
    groups: dict[tuple[str, str] | str, list[Finding]] = {}
    for f in findings:
        key: tuple[str, str] | str = (f.next_step, f.step_slug) if f.next_step else f.id
        groups.setdefault(key, []).append(f)
    return [Advice(tuple(group)) for group in groups.values()]


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
