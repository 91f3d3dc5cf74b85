"""What the plan document says: a plan document turned into a cover, a summary and sections to print.

Everything here is a plain function of the plan document (`store.load_doc`) and the domain
declaration, so the templates only loop and a field added to the declaration shows up in the
document without touching this package.  Values are turned into what a reader sees by
`planner.plans.view.display`, the same function the wizard's review uses, and fields are read
through handles resolved from the declaration at import (`HOURS.of(practice)`), so a renamed
field stops the app at start-up instead of printing nothing.

`build` (`document`) gives the whole `Document`, in reading order, one module per part:

* `title_page`: the cover: organization, title, date, and how far the plan has come;
* the summary a board reads first: `goals` (goals to objectives to practices, `Chain`),
  `audiences` (the practices that reach each audience, `reach`), `workload` (who does what for
  how many hours, `who_does_what`) and `milestones` (the `Timeline` in date order);
* `steps`: one section per wizard step, every answer as written;
* `findings`: the coach's report (`Coach`); `document`: the sign-off (`SignOff`), which ends the
  document: people sign what they have just read.

`answers` holds what they are all made of (`Answer`, `Table`), and `words` the document's own
words.  The HTML templates, `markdown` and `word` all render this one structure, so the three
formats say the same things in the same order.  Every name callers use is importable from here.
"""

from __future__ import annotations

from planner.documents.content import words
from planner.documents.content.answers import (
    CELL_LINE_CHARS,
    LONG_WORD_CHARS,
    PAGE_OF_ROW_LINES,
    SHORT_CELL_CHARS,
    SHORT_NAME_CHARS,
    Answer,
    Known,
    PlanDoc,
    Table,
    answer,
    column,
)
from planner.documents.content.audiences import reach
from planner.documents.content.document import Document, SignOff, build, sign_off
from planner.documents.content.findings import Coach, CoachFinding, coach
from planner.documents.content.goals import Chain, GoalLine, ObjectiveLine, PracticeLine, chain
from planner.documents.content.milestones import Month, Timeline, TimelineEntry, timeline
from planner.documents.content.steps import (
    DOCUMENT_STEPS,
    TABLE_MAX_COLUMNS,
    Card,
    Part,
    Section,
    part,
    sections,
    tabular,
)
from planner.documents.content.title_page import Cover, cover, plan_period, plan_status
from planner.documents.content.words import (
    CHAIN,
    CHAIN_LEAD,
    COACH,
    COACH_LEAD,
    CONTENTS,
    DONE,
    FIX_IN,
    GOAL,
    MEASURED_BY,
    NO_AUDIENCE,
    NO_GOAL,
    NO_PRACTICE_YET,
    NOBODY,
    NONE_YET,
    NOT_WRITTEN,
    REACH,
    REACH_LEAD,
    READY,
    SIGN_OFF,
    SIGN_OFF_COLUMNS,
    SIGN_OFF_ROLES,
    SIGN_OFF_TEXT,
    STATUS,
    STILL_OPEN,
    SUBTITLE,
    TIMELINE,
    TIMELINE_LEAD,
    TO_FIX,
    TO_LOOK_AT,
    UNDATED,
    UNTIED,
    WHO_DOES_WHAT,
    WHO_DOES_WHAT_LEAD,
)
from planner.documents.content.workload import who_does_what

__all__ = [
    "CELL_LINE_CHARS",
    "CHAIN",
    "CHAIN_LEAD",
    "COACH",
    "COACH_LEAD",
    "CONTENTS",
    "DOCUMENT_STEPS",
    "DONE",
    "FIX_IN",
    "GOAL",
    "LONG_WORD_CHARS",
    "MEASURED_BY",
    "NOBODY",
    "NONE_YET",
    "NOT_WRITTEN",
    "NO_AUDIENCE",
    "NO_GOAL",
    "NO_PRACTICE_YET",
    "PAGE_OF_ROW_LINES",
    "REACH",
    "REACH_LEAD",
    "READY",
    "SHORT_CELL_CHARS",
    "SHORT_NAME_CHARS",
    "SIGN_OFF",
    "SIGN_OFF_COLUMNS",
    "SIGN_OFF_ROLES",
    "SIGN_OFF_TEXT",
    "STATUS",
    "STILL_OPEN",
    "SUBTITLE",
    "TABLE_MAX_COLUMNS",
    "TIMELINE",
    "TIMELINE_LEAD",
    "TO_FIX",
    "TO_LOOK_AT",
    "UNDATED",
    "UNTIED",
    "WHO_DOES_WHAT",
    "WHO_DOES_WHAT_LEAD",
    "Answer",
    "Card",
    "Chain",
    "Coach",
    "CoachFinding",
    "Cover",
    "Document",
    "GoalLine",
    "Known",
    "Month",
    "ObjectiveLine",
    "Part",
    "PlanDoc",
    "PracticeLine",
    "Section",
    "SignOff",
    "Table",
    "Timeline",
    "TimelineEntry",
    "answer",
    "build",
    "chain",
    "coach",
    "column",
    "cover",
    "part",
    "plan_period",
    "plan_status",
    "reach",
    "sections",
    "sign_off",
    "tabular",
    "timeline",
    "who_does_what",
    "words",
]
