"""What the plan document says: a plan document turned into a cover, a summary and sections to print.

Everything here is a plain function of the plan document (`store.load_doc`) and the domain
declaration, so the templates only loop and a field added to the declaration shows up in the
document without touching this package.  Values are turned into what a reader sees by
`planner.plans.view.display`, the same function the wizard's review uses.

`build` gives the whole `Document`, in reading order:

* the cover: organization, title, date, and how far the plan has come;
* the summary a board reads first: goals to objectives to practices (`Chain`), audiences and
  the practices that reach them (`reach`), who does what for how many hours (`who_does_what`)
  and the milestones in date order (`Timeline`);
* one section per wizard step, every answer as written;
* the coach's report (`Coach`) and the sign-off (`SignOff`), which ends the document: people
  sign what they have just read.

The HTML templates, `markdown` and `word` all render this one structure, so the three formats
say the same things in the same order, in the words declared below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from planner.coach import Report, coach_report, grouped, picture_svg
from planner.coach.checks import EPSILON, percent_text
from planner.coach.load import hours_of, loads, share_text
from planner.coach.picture import STATUS_WORDS
from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, STEP_BY_SLUG, STEPS, Entity, Field, Kind, plan_field
from planner.domain.spec import SHORT_TEXT
from planner.plans.view import display, items, names, title_of
from planner.plans.view import shorten as view_shorten

# A list of items reads best as a table when each item is a handful of short values;
# longer items (paragraphs, lists of phrases) read better one under the other.
TABLE_MAX_COLUMNS = 6
_TABLE_KINDS = {Kind.TEXT, Kind.ENUM, Kind.REF, Kind.REF_LIST, Kind.BOOL, Kind.NUMBER, Kind.DATE}
# The review step (9) is the document itself: it has no answers of its own.
DOCUMENT_STEPS = tuple(step for step in STEPS if step.plan_fields or step.entities)
# A practice is named by its description, which may run to a paragraph: in a summary table a
# shortened name is enough, since the practice is written out in full in its step.
SHORT_NAME_CHARS = 50

# ---------------------------------------------------------------- the document's own words
# Shared by every format (HTML, PDF, Markdown, Word).

SUBTITLE = "Social media strategy: how we take part in the conversation"
NOT_WRITTEN = "Not yet written."
CONTENTS = "Contents"
STATUS = "Status"
READY = "Ready for sign-off"
STILL_OPEN = "Still to finish"
TO_FIX = "Coach's checks to fix"
TO_LOOK_AT = "Coach's checks to look at"

CHAIN = "From goals to practices"
CHAIN_LEAD = (
    "Each goal, the social objectives that serve it, and the practices that serve each objective: "
    "what we do, in which mode, who does it and for how many hours a week."
)
GOAL = "Goal"
NO_GOAL = "Not yet tied to a goal"
UNTIED = "Not yet tied to an objective"
NO_PRACTICE_YET = "No practice serves this objective yet."
MEASURED_BY = "Measured by"

REACH = "Audiences and how we reach them"
REACH_LEAD = "For each audience, primary ones first: the practices that reach it, and where we listen to it."
NO_AUDIENCE = "No audience named"
NONE_YET = "None yet"

WHO_DOES_WHAT = "Who does what"
WHO_DOES_WHAT_LEAD = (
    "Each practice's hours are shared equally among the people who do it, "
    "and set against the hours each person can give a week. "
    "Listening takes its time through the listening practices, so a place to listen adds no hours of its own."
)
NOBODY = "No one yet"

TIMELINE = "Timeline"
TIMELINE_LEAD = "The milestones in date order, each with who sees it through."
UNDATED = "No date yet"
DONE = "Done"

COACH = "Coach's report"
COACH_LEAD = (
    "Planner's coach checks the plan against {checks} signs of a plan that puts conversation before "
    "broadcast, and says what to do next wherever one is missing."
)
FIX_IN = "Where to fix it"

SIGN_OFF = "Sign-off"
SIGN_OFF_TEXT = "By signing, we agree to this plan and to the time it asks of the people named in it."
SIGN_OFF_ROLES = ("Sponsor", "Approved by", "Prepared by")  # the sponsor's name is filled in
SIGN_OFF_COLUMNS = ("Role", "Name", "Signature", "Date")

# Formats the cover's "printed on" date the way every other date in the document is written.
_PRINTED = Field("printed", Kind.DATE, "Printed")


# ---------------------------------------------------------------- answers, tables and sections


# How print.css fits table cells (`Answer.fit`, `Table.row_classes`): a cell of at most
# SHORT_CELL_CHARS keeps to one line; a word longer than LONG_WORD_CHARS may break anywhere;
# a cell line holds about CELL_LINE_CHARS characters, and a page about PAGE_OF_ROW_LINES lines.
SHORT_CELL_CHARS = 16
LONG_WORD_CHARS = 18
CELL_LINE_CHARS = 20
PAGE_OF_ROW_LINES = 40


@dataclass(frozen=True)
class Answer:
    """One field's answer as a reader sees it."""

    field: Field
    value: str | list[str] | None
    note: str = ""  # what the chosen value means, for enumerations

    @property
    def label(self) -> str:
        return self.field.label

    @property
    def shown(self) -> bool:
        return bool(self.value)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_long(self) -> bool:
        return self.field.kind is Kind.LONGTEXT

    @property
    def text(self) -> str:
        """The answer as one line of text (a list's items joined by spaces)."""
        return " ".join(self.value) if isinstance(self.value, list) else self.value or ""

    @property
    def lines(self) -> int:
        """About how many lines the answer takes in a table cell: one per `CELL_LINE_CHARS`
        characters, and one per list item."""
        if isinstance(self.value, list):
            return len("".join(self.value)) // CELL_LINE_CHARS + len(self.value)
        return len(self.value or "") // CELL_LINE_CHARS + 1

    def fit(self, first: bool) -> str:
        """How print.css fits the answer in its cell: "short" keeps a name (the row's own, in
        the `first` column, or an item it names) to one line; "long" lets a cell that holds a
        word too long for any column (a URL) break it anywhere.  Only such cells: were every
        word allowed to break, the table layout would squeeze them apart letter by letter."""
        text = self.text
        if len(text) <= SHORT_CELL_CHARS and not self.is_list and (first or self.field.kind is Kind.REF):
            return "short"
        if len(text) > LONG_WORD_CHARS and max(map(len, text.split()), default=0) > LONG_WORD_CHARS:
            return "long"
        return ""

    @property
    def paragraphs(self) -> list[list[str]]:
        """Long text as paragraphs (split at blank lines), each a list of its lines."""
        if not isinstance(self.value, str):
            return []
        blocks = re.split(r"\n\s*\n", self.value.replace("\r\n", "\n").strip())
        return [[line.strip() for line in block.split("\n")] for block in blocks if block.strip()]


@dataclass(frozen=True)
class Card:
    """One item shown as a heading and its other answers."""

    title: str
    answers: list[Answer]


@dataclass(frozen=True)
class Table:
    columns: list[Field]
    rows: list[list[Answer]]
    totals: list[str] | None = None  # a footer row summing the number columns
    marks: list[str] | None = None  # for each row, a word the page styles it by ("over"), or ""

    @property
    def row_classes(self) -> list[str]:
        """Each row's classes: its mark, and whether print.css keeps it with its neighbour.
        The first row keeps with the second and the last with the one before, only where the
        two fit on a page together: asked of rows that cannot, WeasyPrint leaves pages nearly
        blank and drops the repeated header."""
        lines = [max([1, *(cell.lines for cell in row)]) for row in self.rows]
        classes = []
        for i in range(len(self.rows)):
            words = [self.marks[i] if self.marks else ""]
            if i == 0 and len(lines) > 1 and lines[0] + lines[1] <= PAGE_OF_ROW_LINES:
                words.append("keep-next")
            if i == len(lines) - 1 and i > 0 and lines[-2] + lines[-1] <= PAGE_OF_ROW_LINES:
                words.append("keep-prev")
            classes.append(" ".join(w for w in words if w))
        return classes


@dataclass(frozen=True)
class Part:
    """One entity's items within a section."""

    entity: Entity
    required: bool  # the step needs at least one: say so when there is none
    table: Table | None = None
    cards: list[Card] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.table is None and not self.cards

    @property
    def anchor(self) -> str:
        return f"list-{self.entity.name}"


@dataclass(frozen=True)
class Section:
    number: int | None
    title: str
    slug: str
    answers: list[Answer]  # the plan's own fields: those filled, and those required but empty
    parts: list[Part]

    @property
    def empty(self) -> bool:
        return not any(a.shown for a in self.answers) and all(p.empty for p in self.parts)

    @property
    def anchor(self) -> str:
        return f"step-{self.slug}"

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}" if self.number else self.title


def plan_period(doc: dict[str, Any], known: dict[str, dict[str, str]]) -> str:
    start = display(plan_field("period_start"), doc.get("period_start"), known)
    end = display(plan_field("period_end"), doc.get("period_end"), known)
    if start and end:
        return f"{start} \N{EN DASH} {end}"
    if start:
        return f"From {start}"
    if end:
        return f"Until {end}"
    return ""


def answer(field: Field, value: Any, known: dict[str, dict[str, str]]) -> Answer:
    shown = display(field, value, known)
    note = ""
    if field.kind is Kind.ENUM and value:
        note = next((c.help for c in field.choices if c.value == value), "")
    return Answer(field, shown, note)


def tabular(entity: Entity) -> bool:
    """Whether an entity's items read best as table rows (see TABLE_MAX_COLUMNS)."""
    return len(entity.fields) <= TABLE_MAX_COLUMNS and all(
        f.kind in _TABLE_KINDS and f.max_length <= SHORT_TEXT for f in entity.fields
    )


def _table(entity: Entity, records: list[dict[str, Any]], known: dict[str, dict[str, str]]) -> Table:
    # The item's name comes first; the other columns keep the declaration's order.
    ordered = [entity.field(entity.title_field)] + [f for f in entity.fields if f.name != entity.title_field]
    grid = [[answer(f, record.get(f.name), known) for f in ordered] for record in records]
    # A column nobody filled in says nothing: leave it out rather than print a column of blanks.
    keep = [i for i in range(len(ordered)) if i == 0 or any(row[i].shown for row in grid)]
    columns = [ordered[i] for i in keep]
    rows = []
    for row in grid:
        cells = []
        for i in keep:
            cell = row[i]
            if cell.field.kind is Kind.BOOL and not cell.shown:
                # In a table a blank would be ambiguous: say No.
                cell = Answer(cell.field, "No")
            cells.append(cell)
        rows.append(cells)
    totals = None
    if len(records) > 1 and any(f.kind is Kind.NUMBER for f in columns):
        totals = [
            _sum(f, records) if f.kind is Kind.NUMBER else ("Total" if i == 0 else "") for i, f in enumerate(columns)
        ]
    return Table(columns, rows, totals)


def _sum(field: Field, records: list[dict[str, Any]]) -> str:
    total = sum(float(r.get(field.name) or 0) for r in records)
    return f"{total:g}"


def _cards(entity: Entity, records: list[dict[str, Any]], known: dict[str, dict[str, str]]) -> list[Card]:
    cards = []
    for record in records:
        answers = [answer(f, record.get(f.name), known) for f in entity.fields if f.name != entity.title_field]
        cards.append(Card(title_of(entity, record), [a for a in answers if a.shown]))
    return cards


def part(entity: Entity, doc: dict[str, Any], known: dict[str, dict[str, str]], *, required: bool) -> Part:
    records = items(doc, entity)
    if not records:
        return Part(entity, required)
    if tabular(entity):
        return Part(entity, required, table=_table(entity, records, known))
    return Part(entity, required, cards=_cards(entity, records, known))


def _section(
    number: int | None,
    title: str,
    slug: str,
    fields: list[Field],
    entities: list[Entity],
    doc: dict[str, Any],
    known: dict[str, dict[str, str]],
    *,
    required_fields: tuple[str, ...] = (),
    required_entities: tuple[str, ...] = (),
) -> Section:
    answers = [answer(f, doc.get(f.name), known) for f in fields]
    # An empty optional answer is left out; an empty required one stays, to show the gap.
    answers = [a for a in answers if a.shown or a.field.name in required_fields]
    parts = [part(e, doc, known, required=e.name in required_entities) for e in entities]
    return Section(number, title, slug, answers, parts)


def sections(doc: dict[str, Any], known: dict[str, dict[str, str]]) -> list[Section]:
    """One section per wizard step that has answers, and a last one for anything declared on no step."""
    found = [
        _section(
            step.number,
            step.title,
            step.slug,
            [f for f in PLAN_FIELDS if f.name in step.plan_fields],
            [ENTITY_BY_NAME[name] for name in step.entities],
            doc,
            known,
            required_fields=step.required_fields,
            required_entities=step.required_entities,
        )
        for step in DOCUMENT_STEPS
    ]
    # A field or entity declared without a step would otherwise vanish from the document.
    on_steps_fields = {name for step in DOCUMENT_STEPS for name in step.plan_fields}
    on_steps_entities = {name for step in DOCUMENT_STEPS for name in step.entities}
    stray_fields = [f for f in PLAN_FIELDS if f.name not in on_steps_fields]
    stray_entities = [e for e in ENTITIES if e.name not in on_steps_entities]
    if stray_fields or stray_entities:
        found.append(_section(None, "Other answers", "other", stray_fields, stray_entities, doc, known))
    return found


# ---------------------------------------------------------------- small helpers


def shorten(text: str, limit: int = SHORT_NAME_CHARS) -> str:
    """`text` on one line, cut at a word near `limit` characters (`planner.plans.view.shorten`)."""
    return view_shorten(text, limit)


def _column(name: str, label: str, kind: Kind = Kind.TEXT) -> Field:
    """A column of a summary table: not a declared field, but rendered like one."""
    return Field(name, kind, label)


def _hours(value: Any) -> float:
    return hours_of(value) or 0.0


def _field_of(entity: str, name: str) -> Field:
    return ENTITY_BY_NAME[entity].field(name)


def _shown(entity: str, name: str, value: Any, known: dict[str, dict[str, str]]) -> Any:
    """A value of an entity's field as a reader sees it (see `planner.plans.view.display`)."""
    return display(_field_of(entity, name), value, known)


# ---------------------------------------------------------------- the cover


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
            ("Organization", self.organization),
            ("Plan period", self.period),
            ("Sponsor", self.sponsor),
            (STATUS, self.status),
            (STILL_OPEN, ", ".join(self.still_open)),
            (TO_FIX, ", ".join(self.failing)),
            (TO_LOOK_AT, ", ".join(self.to_look_at)),
            ("Printed", self.printed),
        ]
        return [(label, value) for label, value in facts if value]


def plan_status(report: Report) -> tuple[str, list[str], list[str], list[str]]:
    """How far the plan has come, as the coach's report says (`Report.ready`, the one rule): the
    status, the steps still to finish ("5. Listening"), the checks that fail and those to look at.
    Never READY while a step is open or a check fails."""
    steps = len(STEPS)
    still_open = [f"{s.number}. {s.title}" for s in report.open_steps]
    failing = [f.title for f in report.failing]
    to_look_at = [f.title for f in report.to_look_at]
    if report.ready:
        return READY, [], [], to_look_at
    if report.open_steps:
        # The review step is complete only when the others are.
        done = steps - len(report.open_steps) - 1
        status = f"Draft \N{EM DASH} {done} of {steps} steps complete"
    else:
        status = f"Draft \N{EM DASH} {len(failing)} of the coach's checks {'fails' if len(failing) == 1 else 'fail'}"
    return status, still_open, failing, to_look_at


def cover(doc: dict[str, Any], known: dict[str, dict[str, str]], today: date, report: Report) -> Cover:
    status, still_open, failing, to_look_at = plan_status(report)
    return Cover(
        title=doc.get("title") or "Untitled plan",
        organization=doc.get("organization") or "",
        sponsor=doc.get("sponsor") or "",
        period=plan_period(doc, known),
        printed=str(display(_PRINTED, today.isoformat(), known)),
        status=status,
        still_open=still_open,
        failing=failing,
        to_look_at=to_look_at,
    )


# ---------------------------------------------------------------- goals to objectives to practices


@dataclass(frozen=True)
class PracticeLine:
    """A practice in the chain: what is done, and the facts a reader weighs it by."""

    title: str
    mode: str
    owners: list[str]
    hours: str  # "2 h a week", or ""

    @property
    def facts(self) -> list[str]:
        return [fact for fact in (self.mode, ", ".join(self.owners) or NOBODY, self.hours) if fact]

    @property
    def summary(self) -> str:
        """The facts on one line: "Respond · Dana Whitfield, Tom Brennan · 3 h a week"."""
        return " \N{MIDDLE DOT} ".join(self.facts)


@dataclass(frozen=True)
class ObjectiveLine:
    title: str
    kind: str  # the kind of objective, by its label
    measures: list[str]  # the metrics that measure it, with their targets
    practices: list[PracticeLine]


@dataclass(frozen=True)
class GoalLine:
    title: str
    objectives: list[ObjectiveLine]
    placeholder: bool = False  # the group of objectives whose goal is missing, not a goal of the plan


@dataclass(frozen=True)
class Chain:
    goals: list[GoalLine]
    untied: list[PracticeLine]  # practices that serve no objective (yet)

    @property
    def empty(self) -> bool:
        return not self.goals and not self.untied


def _practice_line(practice: dict[str, Any], known: dict[str, dict[str, str]]) -> PracticeLine:
    hours = practice.get("hours_per_week")
    return PracticeLine(
        title=title_of(ENTITY_BY_NAME["practice"], practice),
        mode=_shown("practice", "mode", practice.get("mode"), known) or "",
        owners=_shown("practice", "owners", practice.get("owners"), known) or [],
        hours=f"{share_text(_hours(hours))} a week" if hours is not None else "",
    )


def _measure(metric: dict[str, Any]) -> str:
    name = metric.get("name") or ""
    return f"{name} (target: {metric['target']})" if metric.get("target") else name


def chain(doc: dict[str, Any], known: dict[str, dict[str, str]]) -> Chain:
    """Each goal with the objectives that serve it, and each objective with its practices and metrics.

    A reference to an item that is not there counts as no reference: its objective or practice
    is listed as not yet tied, rather than lost."""
    goal_keys = {g["key"] for g in items(doc, "goal")}
    objective_keys = {o["key"] for o in items(doc, "objective")}
    practices: dict[str | None, list[PracticeLine]] = {}
    for p in items(doc, "practice"):
        tied = p.get("objective") if p.get("objective") in objective_keys else None
        practices.setdefault(tied, []).append(_practice_line(p, known))
    measures: dict[str, list[str]] = {}
    for m in items(doc, "metric"):
        measures.setdefault(m.get("objective") or "", []).append(_measure(m))

    objectives: dict[str | None, list[ObjectiveLine]] = {}
    for o in items(doc, "objective"):
        line = ObjectiveLine(
            title=title_of(ENTITY_BY_NAME["objective"], o),
            kind=_shown("objective", "kind", o.get("kind"), known) or "",
            measures=measures.get(o["key"], []),
            practices=practices.get(o["key"], []),
        )
        objectives.setdefault(o.get("goal") if o.get("goal") in goal_keys else None, []).append(line)

    goals = [GoalLine(title_of(ENTITY_BY_NAME["goal"], g), objectives.get(g["key"], [])) for g in items(doc, "goal")]
    if None in objectives:
        goals.append(GoalLine(NO_GOAL, objectives[None], placeholder=True))
    return Chain(goals, practices.get(None, []))


# ---------------------------------------------------------------- audiences by practices


_PRIORITY_ORDER = {"primary": 0, "secondary": 1}


def reach(doc: dict[str, Any], known: dict[str, dict[str, str]]) -> Table | None:
    """One row per audience, primary ones first: the practices that reach it (with their mode)
    and where we listen to it.  A practice aimed at no audience gets a last row of its own, so
    the gap shows.  None when the plan has no audiences and no practices yet.

    A grid of audiences against practices would be unreadable at the sizes real plans reach
    (sixty audiences, a hundred and fifty practices), so each row lists its practices instead."""
    segments, practices = items(doc, "segment"), items(doc, "practice")
    if not segments and not practices:
        return None
    targets = items(doc, "listening_target")
    segment = ENTITY_BY_NAME["segment"]
    columns = [
        _column("audience", segment.label),
        segment.field("priority"),
        _column("practices", "Practices that reach them", Kind.LIST),
        _column("listening", "Where we listen", Kind.LIST),
    ]

    def practice_name(p: dict[str, Any]) -> str:
        mode = _shown("practice", "mode", p.get("mode"), known)
        if not mode:
            return shorten(known["practice"][p["key"]])
        # Shorter still, so that the name and its mode share a line.
        return f"{shorten(known['practice'][p['key']], SHORT_NAME_CHARS - len(mode) - 3)} ({mode})"

    def row(
        name: str, priority: str, reached: list[dict[str, Any]], heard: list[dict[str, Any]] | None
    ) -> list[Answer]:
        values = [
            name,
            priority,
            [practice_name(p) for p in reached] or [NONE_YET],
            # None: not an audience, so there is nowhere to listen to it.
            [] if heard is None else [shorten(known["listening_target"][t["key"]]) for t in heard] or [NONE_YET],
        ]
        return [Answer(column, value) for column, value in zip(columns, values, strict=True)]

    ordered = sorted(segments, key=lambda s: _PRIORITY_ORDER.get(s.get("priority") or "", 2))
    rows = [
        row(
            known["segment"][s["key"]],
            _shown("segment", "priority", s.get("priority"), known) or "",
            [p for p in practices if s["key"] in (p.get("segments") or [])],
            [t for t in targets if s["key"] in (t.get("segments") or [])],
        )
        for s in ordered
    ]
    segment_keys = set(known["segment"])
    aimless = [p for p in practices if not segment_keys & set(p.get("segments") or [])]
    if aimless:
        rows.append(row(NO_AUDIENCE, "", aimless, None))
    return Table(columns, rows)


# ---------------------------------------------------------------- who does what


def who_does_what(doc: dict[str, Any], known: dict[str, dict[str, str]] | None = None) -> Table | None:
    """For each person: the practices they do, where they listen, and the hours the plan asks of
    them against the hours they can give, "12 h of 8 h", flagged when it is more.  The figures are
    `planner.coach.load.loads`, the same the coach's ``capacity`` check judges, so the table and
    the coach agree on who is over.  A last row gathers practices and listening nobody has taken
    on.  None when the plan has no practices and no listening targets yet."""
    known = known or names(doc)
    practices, targets, people = items(doc, "practice"), items(doc, "listening_target"), items(doc, "person")
    if not practices and not targets:
        return None
    person = ENTITY_BY_NAME["person"]
    columns = [
        _column("person", person.label),
        _column("practices", ENTITY_BY_NAME["practice"].label_plural, Kind.LIST),
        _column("listening", ENTITY_BY_NAME["listening_target"].label_plural, Kind.LIST),
        _column("hours", "Hours a week", Kind.NUMBER),
    ]

    def hours_cell(hours: float, available: float | None, over: float) -> str:
        """The hours cell, "3 h of 4 h", or "5 h of 4 h: over by 1 h"."""
        if available is None:
            return share_text(hours)
        text = f"{share_text(hours)} of {share_text(available)}"
        return f"{text}: over by {share_text(over)}" if over else text

    rows: list[list[Answer]] = []
    marks: list[str] = []
    for load in loads(doc):
        values = [
            known["person"][load.person] if load.person else NOBODY,
            [shorten(known["practice"][k]) for k in load.practices],
            [shorten(known["listening_target"][k]) for k in load.listening],
            hours_cell(load.hours, load.available, load.over),
        ]
        rows.append([Answer(column, value) for column, value in zip(columns, values, strict=True)])
        marks.append("over" if load.is_over else "")
    needed = sum(_hours(p.get("hours_per_week")) for p in practices)
    stated = [float(p["hours_per_week"]) for p in people if isinstance(p.get("hours_per_week"), int | float)]
    available = sum(stated) if stated else None
    over = needed - available if available is not None and needed > available + EPSILON else 0.0
    return Table(columns, rows, ["Total", "", "", hours_cell(needed, available, over)], marks)


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class TimelineEntry:
    title: str
    when: str  # "8 March 2027", or ""
    day: str  # "Day 8", counted from the plan's start, or ""
    owner: str
    done: bool

    @property
    def facts(self) -> list[str]:
        return [fact for fact in (self.when, self.day, self.owner, DONE if self.done else "") if fact]


@dataclass(frozen=True)
class Month:
    label: str  # "March 2027", or UNDATED
    entries: list[TimelineEntry]


@dataclass(frozen=True)
class Timeline:
    months: list[Month]
    start: str  # the plan's first day in words, or ""

    @property
    def lead(self) -> str:
        if self.start:
            return f"{TIMELINE_LEAD} Day 1 is {self.start}, when the plan starts."
        return TIMELINE_LEAD

    @property
    def empty(self) -> bool:
        return not self.months


def _day(due: date, start: date | None) -> str:
    if start is None:
        return ""
    days = (due - start).days
    if days < 0:
        return f"{-days} day{'s' if days < -1 else ''} before the start"
    return f"Day {days + 1}"


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def timeline(doc: dict[str, Any], known: dict[str, dict[str, str]]) -> Timeline:
    """The milestones by due date, grouped by month; those without a date come last, in plan order."""
    start = _iso(doc.get("period_start"))
    dated: list[tuple[date, TimelineEntry]] = []
    undated: list[TimelineEntry] = []
    for m in items(doc, "milestone"):
        due = _iso(m.get("due"))
        entry = TimelineEntry(
            title=title_of(ENTITY_BY_NAME["milestone"], m),
            when=(_shown("milestone", "due", m.get("due"), known) or "") if due else "",
            day=_day(due, start) if due else "",
            owner=_shown("milestone", "owner", m.get("owner"), known) or "",
            done=bool(m.get("done")),
        )
        if due:
            dated.append((due, entry))
        else:
            undated.append(entry)
    months: list[Month] = []
    for due, entry in sorted(dated, key=lambda pair: pair[0]):
        label = f"{due:%B %Y}"
        if not months or months[-1].label != label:
            months.append(Month(label, []))
        months[-1].entries.append(entry)
    if undated:
        months.append(Month(UNDATED, undated))
    start_words = _shown("milestone", "due", doc.get("period_start"), known) if start else ""
    return Timeline(months, start_words or "")


# ---------------------------------------------------------------- the coach's report


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
            return f"{self.next_step} ({FIX_IN}: {self.fix_in})"
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
        return COACH_LEAD.format(checks=self.checks or len(self.findings))

    def table(self) -> Table:
        """The findings as a table, for the formats that show no picture."""
        columns = [
            _column("check", "Check"),
            _column("status", "Result"),
            _column("message", "What the coach found"),
            _column("next_step", "Next step"),
        ]
        rows = [
            [Answer(c, v) for c, v in zip(columns, (f.title, f.status_word, f.message, f.next), strict=True)]
            for f in self.findings
        ]
        return Table(columns, rows)


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


# ---------------------------------------------------------------- sign-off and the whole


@dataclass(frozen=True)
class SignOff:
    text: str
    columns: tuple[str, ...]
    rows: list[tuple[str, str]]  # (role, name); only the sponsor's name is known in advance


def sign_off(doc: dict[str, Any]) -> SignOff:
    sponsor = doc.get("sponsor") or ""
    return SignOff(SIGN_OFF_TEXT, SIGN_OFF_COLUMNS, [(r, sponsor if r == "Sponsor" else "") for r in SIGN_OFF_ROLES])


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
            ("chain", CHAIN),
            ("reach", REACH),
            ("who-does-what", WHO_DOES_WHAT),
            ("timeline", TIMELINE),
            *((s.anchor, s.heading) for s in self.sections),
            ("coach", COACH),
            ("sign-off", SIGN_OFF),
        ]


def build(doc: dict[str, Any], *, today: date | None = None, report: Report | None = None) -> Document:
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
