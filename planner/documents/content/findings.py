"""The coach's part of the document: its score, its picture and every finding, each with its
next step and the wizard step where it is taken (`Coach`)."""

from __future__ import annotations

from dataclasses import dataclass

from planner.coach import Report, grouped, picture_svg
from planner.coach.checks import percent_text
from planner.coach.picture import STATUS_WORDS
from planner.documents.content import words
from planner.documents.content.answers import Table, column, row
from planner.domain import STEP_BY_SLUG

COLUMNS = [
    column("check", words.CHECK),
    column("status", words.RESULT),
    column("message", words.FOUND),
    column("next_step", words.NEXT_STEP),
]


@dataclass(frozen=True)
class CoachFinding:
    status: str  # pass, warn, fail: the page styles by it
    title: str
    message: str
    next_step: str
    fix_in: str  # the step that fixes it, "5. Listening"

    @property
    def status_word(self) -> str:
        return next(word for status, word in STATUS_WORDS.items() if status.value == self.status)

    @property
    def next(self) -> str:
        """The next step with where to take it, "Add a listening target… (Where to fix it: 5. Listening)"."""
        if self.next_step and self.fix_in:
            return f"{self.next_step} ({words.FIX_IN}: {self.fix_in})"
        return self.next_step


@dataclass(frozen=True)
class Coach:
    score: int
    summary: str
    findings: list[CoachFinding]
    picture: str  # SVG markup built by ElementTree, which escaped every word of the plan in it
    checks: int = 0  # how many checks the coach ran (several may share one finding)

    @property
    def lead(self) -> str:
        return words.COACH_LEAD.format(checks=self.checks or len(self.findings))

    def table(self) -> Table:
        """The findings as a table, for the formats that show no picture."""
        rows = [row(COLUMNS, [f.title, f.status_word, f.message, f.next]) for f in self.findings]
        return Table(list(COLUMNS), rows)


def coach(report: Report) -> Coach:
    counts = report.counts
    summary = f"Score: {report.score} out of 100. {counts['pass']} checks pass, {counts['warn']} warn, "
    summary += f"{counts['fail']} fail."
    share = report.balance.social_share
    if share is not None:
        summary += f" {percent_text(share)} of practice hours go to conversation."
    findings = []
    # Checks that meet the same gap are said once, under all their titles (`grouped`).
    for f in grouped(report.checks):
        step = STEP_BY_SLUG.get(f.step_slug)
        fix_in = f"{step.number}. {step.title}" if step and f.next_step else ""
        findings.append(CoachFinding(f.status.value, f.title, f.message, f.next_step, fix_in))
    return Coach(report.score, summary, findings, picture_svg(report), len(report.checks))
