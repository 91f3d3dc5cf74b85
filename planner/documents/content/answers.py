"""One answer as a reader sees it, and the tables answers sit in.

`Answer` is a field's value in words (`planner.plans.view.display`: references by name, choices
by label, dates in words); a `Table` is rows of them under columns, with what print.css needs
to lay the rows out.  Every part of the document (the steps' sections, the summaries, the
coach's findings) is made of these two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.domain import Field, Kind
from planner.plans.view import display

# The plan document (`store.load_doc`), and for each entity name each key's display name
# (`planner.plans.view.names`).
PlanDoc = dict[str, Any]
Known = dict[str, dict[str, str]]

# A practice is named by its description, which may run to a paragraph: in a summary table a
# shortened name is enough, since the practice is written out in full in its step.
SHORT_NAME_CHARS = 50

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


def answer(field: Field, value: Any, known: Known) -> Answer:
    """`value` of `field` as a reader sees it, with what an enumeration's choice means."""
    shown = display(field, value, known)
    note = ""
    if field.kind is Kind.ENUM and value:
        note = next((c.help for c in field.choices if c.value == value), "")
    return Answer(field, shown, note)


def column(name: str, label: str, kind: Kind = Kind.TEXT) -> Field:
    """A column of a summary table: not a declared field, but rendered like one."""
    return Field(name, kind, label)


def row(columns: list[Field], values: list[Any]) -> list[Answer]:
    """A summary table's row: each value, already in words, under its column."""
    return [Answer(c, v) for c, v in zip(columns, values, strict=True)]


def shown_text(field: Field, record: Mapping[str, Any], known: Known) -> str:
    """A one-value field of `record` as a reader sees it, or "" when it says nothing."""
    value = display(field, field.of(record), known)
    return value if isinstance(value, str) else ""


def shown_list(field: Field, record: Mapping[str, Any], known: Known) -> list[str]:
    """A list field of `record` (references by name, choices by label), or [] when empty."""
    value = display(field, field.of(record), known)
    return value if isinstance(value, list) else []
