"""The whole document in reading order (`build`), and the sign-off that ends it: people sign
what they have just read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.coach import Report, coach_report
from planner.documents.content import words
from planner.documents.content.answers import PlanDoc, Table
from planner.documents.content.audiences import reach
from planner.documents.content.findings import Coach, coach
from planner.documents.content.goals import Chain, chain
from planner.documents.content.milestones import Timeline, timeline
from planner.documents.content.steps import Section, sections
from planner.documents.content.title_page import Cover, cover
from planner.documents.content.workload import who_does_what
from planner.domain import plan_field
from planner.plans.view import names

SPONSOR = plan_field("sponsor")


@dataclass(frozen=True)
class SignOff:
    text: str
    columns: tuple[str, ...]
    rows: list[tuple[str, str]]  # (role, name); only the sponsor's name is known in advance


def sign_off(doc: PlanDoc) -> SignOff:
    sponsor = SPONSOR.of(doc) or ""
    rows = [(role, sponsor if role == words.SPONSOR else "") for role in words.SIGN_OFF_ROLES]
    return SignOff(words.SIGN_OFF_TEXT, words.SIGN_OFF_COLUMNS, rows)


@dataclass(frozen=True)
class Document:
    cover: Cover
    chain: Chain
    reach: Table | None
    workload: Table | None
    timeline: Timeline
    sections: list[Section]
    coach: Coach
    sign_off: SignOff

    @property
    def contents(self) -> list[tuple[str, str]]:
        """(anchor, heading) of each part of the document, in reading order."""
        return [
            ("chain", words.CHAIN),
            ("reach", words.REACH),
            ("who-does-what", words.WHO_DOES_WHAT),
            ("timeline", words.TIMELINE),
            *((s.anchor, s.heading) for s in self.sections),
            ("coach", words.COACH),
            ("sign-off", words.SIGN_OFF),
        ]


def build(doc: PlanDoc, *, today: date | None = None, report: Report | None = None) -> Document:
    """The whole document for a plan document.

    `today` is the cover's "printed" date; `report` is the coach's report when the caller has it
    already (by default the coach reads the plan here)."""
    known = names(doc)
    today = today or date.today()
    report = report or coach_report(doc, today=today)  # the day printed is the day judged
    return Document(
        cover=cover(doc, known, today, report),
        chain=chain(doc, known),
        reach=reach(doc, known),
        workload=who_does_what(doc, known),
        timeline=timeline(doc, known),
        sections=sections(doc, known),
        coach=coach(report),
        sign_off=sign_off(doc),
    )
