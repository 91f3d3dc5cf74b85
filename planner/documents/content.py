"""What the plan document says: a plan document turned into a cover and sections to print.

Everything here is a plain function of the plan document (`store.load_doc`) and the domain
declaration, so the templates only loop and a field added to the declaration shows up in the
document without touching this package.  Values are turned into what a reader sees by
`planner.plans.view.display`, the same function the wizard's review uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, STEPS, Entity, Field, Kind, plan_field
from planner.domain.spec import SHORT_TEXT
from planner.plans.view import display, items, names, title_of

# A list of items reads best as a table when each item is a handful of short values;
# longer items (paragraphs, lists of phrases) read better one under the other.
TABLE_MAX_COLUMNS = 6
_TABLE_KINDS = {Kind.TEXT, Kind.ENUM, Kind.REF, Kind.REF_LIST, Kind.BOOL, Kind.NUMBER, Kind.DATE}
# The review step (9) is the document itself: it has no answers of its own.
DOCUMENT_STEPS = tuple(step for step in STEPS if step.plan_fields or step.entities)

# The document's own words, shared by every format (HTML, PDF, Markdown, Word).
SUBTITLE = "Web 2.0 plan: how we take part in the conversation"
NOT_WRITTEN = "Not yet written."
SIGN_OFF = "Sign-off"
SIGN_OFF_TEXT = "By signing, we agree to this plan and to the time it asks of the people named in it."
SIGN_OFF_ROLES = ("Sponsor", "Approved by", "Prepared by")  # the sponsor's name is filled in
SIGN_OFF_COLUMNS = ("Role", "Name", "Signature", "Date")

# Formats the cover's "printed on" date the way every other date in the document is written.
_PRINTED = Field("printed", Kind.DATE, "Printed")


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


@dataclass(frozen=True)
class Cover:
    title: str
    organization: str
    sponsor: str
    period: str
    printed: str  # the day the document was made: a plan changes after it is signed

    @property
    def sign_off_rows(self) -> list[tuple[str, str]]:
        """(role, name) for each line of the sign-off table."""
        return [(role, self.sponsor if role == "Sponsor" else "") for role in SIGN_OFF_ROLES]


@dataclass(frozen=True)
class Document:
    cover: Cover
    sections: list[Section]


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


def build(doc: dict[str, Any], *, today: date | None = None) -> Document:
    """The whole document for a plan document."""
    known = names(doc)
    sections = []
    for step in DOCUMENT_STEPS:
        sections.append(
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
        )
    # A field or entity declared without a step would otherwise vanish from the document.
    on_steps_fields = {name for step in DOCUMENT_STEPS for name in step.plan_fields}
    on_steps_entities = {name for step in DOCUMENT_STEPS for name in step.entities}
    stray_fields = [f for f in PLAN_FIELDS if f.name not in on_steps_fields]
    stray_entities = [e for e in ENTITIES if e.name not in on_steps_entities]
    if stray_fields or stray_entities:
        sections.append(_section(None, "Other answers", "other", stray_fields, stray_entities, doc, known))

    cover = Cover(
        title=doc.get("title") or "Untitled plan",
        organization=doc.get("organization") or "",
        sponsor=doc.get("sponsor") or "",
        period=plan_period(doc, known),
        printed=str(display(_PRINTED, (today or date.today()).isoformat(), known)),
    )
    return Document(cover, sections)
