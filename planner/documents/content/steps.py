"""The document's sections: one per wizard step, every answer as written.

A step's section holds the plan's own fields the step edits, then each of its lists of items:
as a table where the items are a handful of short values, as cards (a heading and its answers)
where they run longer.  All of it follows the declaration: a field added there appears here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from planner.documents.content.answers import Answer, Known, PlanDoc, Table, answer
from planner.documents.content.words import OTHER_ANSWERS, TOTAL
from planner.domain import ENTITIES, PLAN_FIELDS, REVIEW_STEP, STEPS, Entity, Field, Kind, entity
from planner.domain.spec import SHORT_TEXT
from planner.plans.view import items, title_of

# A list of items reads best as a table when each item is a handful of short values;
# longer items (paragraphs, lists of phrases) read better one under the other.
TABLE_MAX_COLUMNS = 6
_TABLE_KINDS = {Kind.TEXT, Kind.ENUM, Kind.REF, Kind.REF_LIST, Kind.BOOL, Kind.NUMBER, Kind.DATE}
# The steps whose answers the document prints, in the declared order: all but the review step,
# which edits nothing (it is where the team reads this document).
DOCUMENT_STEPS = tuple(step for step in STEPS if step is not REVIEW_STEP)


@dataclass(frozen=True)
class Card:
    """One item shown as a heading and its other answers."""

    title: str
    answers: list[Answer]


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


def tabular(entity: Entity) -> bool:
    """Whether an entity's items read best as table rows (see TABLE_MAX_COLUMNS)."""
    return len(entity.fields) <= TABLE_MAX_COLUMNS and all(
        f.kind in _TABLE_KINDS and f.max_length <= SHORT_TEXT for f in entity.fields
    )


def _table(entity: Entity, records: list[PlanDoc], known: Known) -> Table:
    # The item's name comes first; the other columns keep the declaration's order.
    ordered = [entity.field(entity.title_field)] + [f for f in entity.fields if f.name != entity.title_field]
    grid = [[answer(f, f.of(record), known) for f in ordered] for record in records]
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
            _sum(f, records) if f.kind is Kind.NUMBER else (TOTAL if i == 0 else "") for i, f in enumerate(columns)
        ]
    return Table(columns, rows, totals)


def _sum(field: Field, records: list[PlanDoc]) -> str:
    total = sum(float(field.of(r) or 0) for r in records)
    return f"{total:g}"


def _cards(entity: Entity, records: list[PlanDoc], known: Known) -> list[Card]:
    cards = []
    for record in records:
        answers = [answer(f, f.of(record), known) for f in entity.fields if f.name != entity.title_field]
        cards.append(Card(title_of(entity, record), [a for a in answers if a.shown]))
    return cards


def part(entity: Entity, doc: PlanDoc, known: Known, *, required: bool) -> Part:
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
    fields: Sequence[Field],
    entities: Sequence[Entity],
    doc: PlanDoc,
    known: Known,
    *,
    required_fields: tuple[str, ...] = (),
    required_entities: tuple[str, ...] = (),
) -> Section:
    answers = [answer(f, f.of(doc), known) for f in fields]
    # An empty optional answer is left out; an empty required one stays, to show the gap.
    answers = [a for a in answers if a.shown or a.field.name in required_fields]
    parts = [part(e, doc, known, required=e.name in required_entities) for e in entities]
    return Section(number, title, slug, answers, parts)


def sections(doc: PlanDoc, known: Known) -> list[Section]:
    """One section per wizard step that has answers, and a last one for anything declared on no step."""
    found = [
        _section(
            step.number,
            step.title,
            step.slug,
            [f for f in PLAN_FIELDS if f.name in step.plan_fields],
            [entity(name) for name in step.entities],
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
        found.append(_section(None, OTHER_ANSWERS, "other", stray_fields, stray_entities, doc, known))
    return found
