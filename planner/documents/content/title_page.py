"""The cover: the plan's title and organization, its period and sponsor, the day it was printed,
and how far it has come, as the coach's report says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from planner.coach import Report
from planner.documents.content import words
from planner.documents.content.answers import Known, PlanDoc, shown_text
from planner.documents.content.steps import DOCUMENT_STEPS
from planner.domain import STEPS, Field, Kind, plan_field
from planner.plans.view import display

TITLE = plan_field("title")
ORGANIZATION = plan_field("organization")
SPONSOR = plan_field("sponsor")
PERIOD_START = plan_field("period_start")
PERIOD_END = plan_field("period_end")
# Formats the cover's "printed on" date the way every other date in the document is written.
_PRINTED = Field("printed", Kind.DATE, words.PRINTED)


@dataclass(frozen=True)
class Cover:
    title: str
    organization: str
    sponsor: str
    period: str
    printed: str  # the day the document was made: a plan changes after it is signed
    status: str  # "Draft — 6 of 9 steps complete", or READY: from the coach (`plan_status`)
    still_open: list[str] = field(default_factory=list)  # the steps to finish, "5. Listening"
    failing: list[str] = field(default_factory=list)  # the coach's checks that fail, by title
    to_look_at: list[str] = field(default_factory=list)  # the checks that warn, by title

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The facts under the title, as (label, value), leaving out those not written."""
        facts = [
            (words.ORGANIZATION, self.organization),
            (words.PLAN_PERIOD, self.period),
            (words.SPONSOR, self.sponsor),
            (words.STATUS, self.status),
            (words.STILL_OPEN, ", ".join(self.still_open)),
            (words.TO_FIX, ", ".join(self.failing)),
            (words.TO_LOOK_AT, ", ".join(self.to_look_at)),
            (words.PRINTED, self.printed),
        ]
        return [(label, value) for label, value in facts if value]


def plan_period(doc: PlanDoc, known: Known) -> str:
    start, end = shown_text(PERIOD_START, doc, known), shown_text(PERIOD_END, doc, known)
    if start and end:
        return f"{start} \N{EN DASH} {end}"
    if start:
        return f"From {start}"
    if end:
        return f"Until {end}"
    return ""


def plan_status(report: Report) -> tuple[str, list[str], list[str], list[str]]:
    """How far the plan has come, as the coach's report says (`Report.ready`, the one rule): the
    status, the steps still to finish ("5. Listening"), the checks that fail and those to look at.
    Never READY while a step is open or a check fails."""
    still_open = [f"{s.number}. {s.title}" for s in report.open_steps]
    failing = [f.title for f in report.failing]
    to_look_at = [f.title for f in report.to_look_at]
    if report.ready:
        return words.READY, [], [], to_look_at
    if report.open_steps:
        # The review step is complete only when the others are: while one is open, it is not.
        done = len(DOCUMENT_STEPS) - len(report.open_steps)
        status = f"Draft \N{EM DASH} {done} of {len(STEPS)} steps complete"
    else:
        status = f"Draft \N{EM DASH} {len(failing)} of the coach's checks {'fails' if len(failing) == 1 else 'fail'}"
    return status, still_open, failing, to_look_at


def cover(doc: PlanDoc, known: Known, today: date, report: Report) -> Cover:
    status, still_open, failing, to_look_at = plan_status(report)
    return Cover(
        title=TITLE.of(doc) or words.UNTITLED,
        organization=ORGANIZATION.of(doc) or "",
        sponsor=SPONSOR.of(doc) or "",
        period=plan_period(doc, known),
        printed=str(display(_PRINTED, today.isoformat(), known)),
        status=status,
        still_open=still_open,
        failing=failing,
        to_look_at=to_look_at,
    )
