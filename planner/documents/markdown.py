"""The plan document as Markdown, and the walk through the document that Markdown and Word share.

The text formats say what the HTML page says: `content.build` decides the cover, the sections
(one per wizard step) and how each list of items reads (a table or one card per item), so a
field added to the declaration shows up here without touching this module.  `write` walks that
document once, in order, and hands each piece to a `Writer`; `MarkdownWriter` here and
`planner.documents.word.WordWriter` turn the pieces into their format.  On top of what the page
shows, the walk adds a "who does what" table after the step where practices are written, an
optional coach's report (the caller passes it in: see `render_markdown`) and a sign-off table.

Everything a user typed is *text*.  `escape` keeps it from turning into Markdown structure or
raw HTML in any CommonMark or GitHub renderer (see its docstring for what it escapes and why).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from planner.documents.content import Answer, Cover, Section, Table, build
from planner.domain import ENTITY_BY_NAME, STEP_OF_ENTITY, Field, Kind
from planner.plans.view import items, names

if TYPE_CHECKING:  # the coach is optional: the renderers only read what it reports
    from planner.coach.report import Report

MARKDOWN_MIMETYPE = "text/markdown; charset=utf-8"

SUBTITLE = "Web 2.0 plan: how we take part in the conversation"
NOT_WRITTEN = "Not yet written."
SIGN_OFF = "Sign-off"
SIGN_OFF_TEXT = "By signing, we agree to this plan and to the time it asks of the people named in it."
# The rows of the sign-off table; the sponsor's name is filled in from the plan.
SIGN_OFF_ROLES = ("Sponsor", "Approved by", "Prepared by")
SIGN_OFF_COLUMNS = ("Role", "Name", "Signature", "Date")

WHO_DOES_WHAT = "Who does what"
WHO_DOES_WHAT_NOTE = (
    "Each practice's hours are shared equally among the people who do it, "
    "so the column adds up to the plan's practice hours."
)
NOBODY = "No one yet"
# A practice is named by its description, which may run to a paragraph: in the summary table
# a shortened name is enough, since the practice itself is written out in full above it.
SHORT_NAME_CHARS = 80

COACH_HEADING = "Coach's report"
COACH_STATUS = {"pass": "Pass", "warn": "Warning", "fail": "Fail"}

# ---------------------------------------------------------------- text that is safe to print

# What no document may hold: XML 1.0 forbids C0 controls other than tab, newline and carriage
# return, lone surrogates and U+FFFE/U+FFFF; DEL goes too, as it means nothing to a reader.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: Any) -> str:
    """`text` as a string with Windows and old Mac line ends made `\\n` and unprintable characters removed."""
    return _UNPRINTABLE.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


# Characters that make structure wherever they stand: emphasis (* _), code (`), links and
# images ([ ]), headings and their closing sequence (#), table cells (|), GitHub strikethrough
# (~) and maths ($), the escape itself (\), and attribute lists of some dialects ({ }).
_ANYWHERE = re.compile(r"([\\`*_{}\[\]#|~$])")
# Characters that make structure only at the start of a line: a list item (- +), a setext
# underline (=) and an ordered list item (1. or 1)).  "(", ")" and "!" need no escape: they
# form a link or an image only next to a "]" or "[", which are always escaped.  Escaping
# them everywhere would litter ordinary prose ("part-time (paid)") with backslashes.
_LIST_MARKER = re.compile(r"^([-+=])")
_ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])")


def escape(text: Any, *, line_start: bool = True) -> str:
    """User text as Markdown that renders as exactly that text, on one line or many.

    `&`, `<` and `>` become entities, so raw HTML (`<script>`), autolinks and block quotes
    show as typed in every renderer, whether or not it allows HTML.  Markdown's structural
    characters get a backslash (see `_ANYWHERE`).  Each line loses its leading whitespace
    (which could make an indented code block) and, where the text starts a line (`line_start`:
    a paragraph or a list item, not a heading or a table cell), a leading list marker is
    escaped.
    """
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in text.split("\n"):
        line = _ANYWHERE.sub(r"\\\1", line.strip())
        if line_start:
            line = _LIST_MARKER.sub(r"\\\1", line)
            line = _ORDERED_MARKER.sub(r"\1\\\2", line)
        lines.append(line)
    return "\n".join(lines)


def one_line(text: Any) -> str:
    """User text for a place that holds one line (a table cell, a heading): whitespace runs,
    newlines included, become one space."""
    return " ".join(printable(text).split())


def shorten(text: str, limit: int = SHORT_NAME_CHARS) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- the walk


class Writer(Protocol):
    """What a format does with each piece of the document, in reading order."""

    def cover(self, cover: Cover) -> None: ...

    def heading(self, level: int, text: str) -> None:
        """Level 1: a section (a step); 2: a list of items; 3: one item."""

    def paragraph(self, text: str, *, note: bool = False) -> None:
        """A paragraph of ours; a `note` is a remark about the plan, such as "Not yet written."."""

    def answers(self, answers: Sequence[Answer]) -> None: ...

    def table(self, table: Table, caption: str) -> None: ...

    def sign_off(self, cover: Cover) -> None: ...


def cover_facts(cover: Cover) -> list[tuple[str, str]]:
    """The cover's facts under the title, as (label, value), leaving out those not written."""
    facts = [
        ("Organization", cover.organization),
        ("Plan period", cover.period),
        ("Sponsor", cover.sponsor),
        ("Printed", cover.printed),
    ]
    return [(label, value) for label, value in facts if value]


def _column(name: str, label: str, kind: Kind = Kind.TEXT) -> Field:
    return Field(name, kind, label)


def who_does_what(doc: dict[str, Any]) -> Table | None:
    """For each person: the practices they do, where they listen, the practice hours that
    fall to them (a practice's hours shared equally among its owners) and the hours they can
    give.  A last row gathers practices and listening nobody has taken on.  None when the plan
    has no practices and no listening targets yet."""
    known = names(doc)
    practice, listening, person = (ENTITY_BY_NAME[n] for n in ("practice", "listening_target", "person"))
    practices, targets, people = items(doc, practice), items(doc, listening), items(doc, person)
    if not practices and not targets:
        return None
    hours_field = person.field("hours_per_week")
    columns = [
        _column("person", person.label),
        _column("practices", practice.label_plural, Kind.LIST),
        _column("listening", listening.label_plural, Kind.LIST),
        _column("practice_hours", "Practice hours a week", Kind.NUMBER),
        _column("hours_per_week", hours_field.label, Kind.NUMBER),
    ]

    def row(who: str, keys: set[str | None], available: Any) -> list[Answer]:
        owned = [p for p in practices if keys & set(p.get("owners") or [None])]
        heard = [t for t in targets if t.get("listener") in keys]
        share = sum(float(p.get("hours_per_week") or 0) / max(1, len(p.get("owners") or [])) for p in owned)
        values: list[Any] = [
            who,
            [shorten(known["practice"][p["key"]]) for p in owned],
            [shorten(known["listening_target"][t["key"]]) for t in heard],
            f"{round(share, 2):g}",
            f"{available:g}" if isinstance(available, int | float) else "",
        ]
        return [Answer(column, value) for column, value in zip(columns, values, strict=True)]

    rows = [row(known["person"][p["key"]], {p["key"]}, p.get("hours_per_week")) for p in people]
    orphans = row(NOBODY, {None}, None)
    if orphans[1].value or orphans[2].value:
        rows.append(orphans)
    total_share = sum(float(p.get("hours_per_week") or 0) for p in practices)
    total_available = sum(float(p.get("hours_per_week") or 0) for p in people)
    totals = ["Total", "", "", f"{round(total_share, 2):g}", f"{total_available:g}"]
    return Table(columns, rows, totals)


def coach_table(report: Report) -> Table:
    columns = [
        _column("check", "Check"),
        _column("status", "Result"),
        _column("message", "What the coach found"),
        _column("next_step", "Next step"),
    ]
    rows = [
        [
            Answer(columns[0], finding.title),
            Answer(columns[1], COACH_STATUS.get(str(finding.status), str(finding.status))),
            Answer(columns[2], finding.message),
            Answer(columns[3], finding.next_step),
        ]
        for finding in report.checks
    ]
    return Table(columns, rows)


def coach_summary(report: Report) -> str:
    # Imported here: only a caller that has a coach's report reaches this.
    from planner.coach.checks import percent_text

    summary = f"Score: {report.score} out of 100."
    share = report.balance.social_share
    if share is not None:
        summary += f" {percent_text(share)} of practice hours go to conversation."
    return summary


def _write_section(section: Section, writer: Writer) -> None:
    if section.answers:
        writer.answers(section.answers)
    for part in section.parts:
        if part.empty and not part.required:
            continue
        writer.heading(2, part.entity.label_plural)
        if part.empty:
            writer.paragraph(NOT_WRITTEN, note=True)
        elif part.table is not None:
            writer.table(part.table, part.entity.label_plural)
        for card in part.cards:
            writer.heading(3, card.title)
            if card.answers:
                writer.answers(card.answers)


def write(doc: dict[str, Any], writer: Writer, *, coach: Report | None = None, today: date | None = None) -> None:
    """Walk the plan document in reading order, handing each piece to `writer`."""
    document = build(doc, today=today)
    writer.cover(document.cover)
    practice_step = STEP_OF_ENTITY["practice"].slug
    for section in document.sections:
        writer.heading(1, section.heading)
        if section.empty:
            writer.paragraph(NOT_WRITTEN, note=True)
        else:
            _write_section(section, writer)
        if section.slug == practice_step and (workload := who_does_what(doc)) is not None:
            writer.heading(2, WHO_DOES_WHAT)
            writer.paragraph(WHO_DOES_WHAT_NOTE, note=True)
            writer.table(workload, WHO_DOES_WHAT)
    if coach is not None:
        writer.heading(1, COACH_HEADING)
        writer.paragraph(coach_summary(coach))
        writer.table(coach_table(coach), COACH_HEADING)
    writer.heading(1, SIGN_OFF)
    writer.paragraph(SIGN_OFF_TEXT)
    writer.sign_off(document.cover)


# ---------------------------------------------------------------- Markdown


def _cell(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        return escape("; ".join(one_line(v) for v in value), line_start=False)
    return escape(one_line(value or ""), line_start=False)


def _table_lines(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """A GitHub-flavoured pipe table from cells that are already escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    rule = ["---:" if n else "---" for n in numeric]
    return "\n".join([line(header), line(rule), *(line(r) for r in rows)])


class MarkdownWriter:
    """Builds the Markdown text: blocks separated by blank lines."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def text(self) -> str:
        return "\n\n".join(self.blocks) + "\n"

    def cover(self, cover: Cover) -> None:
        self.blocks.append(f"# {escape(one_line(cover.title), line_start=False)}")
        self.blocks.append(f"*{escape(SUBTITLE)}*")
        # A backslash at the end of a line is CommonMark's hard line break.
        facts = [f"**{label}:** {escape(one_line(value), line_start=False)}" for label, value in cover_facts(cover)]
        self.blocks.append("\\\n".join(facts))

    def heading(self, level: int, text: str) -> None:
        # The document's title is the only level-1 heading; a section is ##.
        self.blocks.append(f"{'#' * (level + 1)} {escape(one_line(text), line_start=False)}")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        self.blocks.append(f"*{escape(text)}*" if note else escape(text))

    def answers(self, answers: Sequence[Answer]) -> None:
        for a in answers:
            label = f"**{escape(a.label, line_start=False)}:**"
            if not a.shown:
                self.blocks.append(f"{label} *{escape(NOT_WRITTEN, line_start=False)}*")
            elif isinstance(a.value, list):
                self.blocks.append(label)
                self.blocks.append("\n".join(f"- {escape(one_line(v))}" for v in a.value if one_line(v)))
            elif a.is_long:
                self.blocks.append(label)
                self.blocks.extend("\\\n".join(escape(line) for line in lines) for lines in a.paragraphs)
            else:
                value = escape(one_line(a.value), line_start=False)
                if a.note:
                    value += f" — *{escape(a.note, line_start=False)}*"
                self.blocks.append(f"{label} {value}")

    def table(self, table: Table, caption: str) -> None:
        header = [escape(c.label, line_start=False) for c in table.columns]
        rows = [[_cell(cell.value) for cell in row] for row in table.rows]
        if table.totals:
            rows.append([f"**{_cell(total)}**" if total else "" for total in table.totals])
        self.blocks.append(_table_lines(header, rows, [c.kind is Kind.NUMBER for c in table.columns]))

    def sign_off(self, cover: Cover) -> None:
        header = [escape(label, line_start=False) for label in SIGN_OFF_COLUMNS]
        rows = [[escape(role, line_start=False), "", "", ""] for role in SIGN_OFF_ROLES]
        rows[0][1] = _cell(cover.sponsor)
        self.blocks.append(_table_lines(header, rows, [False] * len(header)))


def render_markdown(doc: dict[str, Any], *, coach: Report | None = None, today: date | None = None) -> str:
    """The whole plan document (`store.load_doc`) as Markdown.

    `coach`, when given (`planner.coach.coach_report(doc)`), adds the coach's report before the
    sign-off.  `today` is the cover's "printed" date.
    """
    writer = MarkdownWriter()
    write(doc, writer, coach=coach, today=today)
    return writer.text()
