"""The plan document as Markdown, and the walk through the document that Markdown and Word share.

The text formats say what the HTML page says, in the same order and the same words:
`content.build` decides the cover, the summary (goals to practices, audiences and how we reach
them, who does what, the timeline), the sections (one per wizard step), the coach's report and
the sign-off, so a field added to the declaration shows up here without touching this module.
`write` walks that document once, in order, and hands each piece to a `Writer`;
`MarkdownWriter` here and `planner.documents.word.WordWriter` turn the pieces into their format.
Only the coach's picture stays on the page and in the PDF: these formats carry its words.

Everything a user typed is *text*, printed without the characters no document may hold
(`planner.text.printable`).  `escape` keeps it from turning into Markdown structure or
raw HTML in any CommonMark or GitHub renderer (see its docstring for what it escapes and why).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from planner.documents.content import (
    Answer,
    Chain,
    Cover,
    Document,
    PracticeLine,
    Section,
    SignOff,
    Table,
    Timeline,
    build,
    words,
)
from planner.domain import Kind
from planner.text import printable

if TYPE_CHECKING:
    from planner.coach.report import Report

MARKDOWN_MIMETYPE = "text/markdown; charset=utf-8"

# ---------------------------------------------------------------- text that is safe to print

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


# ---------------------------------------------------------------- the walk


@dataclass(frozen=True)
class Bullet:
    """One entry of a bulleted list: `lead` in bold, then `text`, then a muted `note`; and the
    entries nested under it."""

    text: str
    lead: str = ""
    note: str = ""
    children: Sequence[Bullet] = ()


class Writer(Protocol):
    """What a format does with each piece of the document, in reading order."""

    def cover(self, cover: Cover) -> None: ...

    def heading(self, level: int, text: str) -> None:
        """Level 1: a part of the document (a step); 2: a list of items, a goal or a month; 3: one item."""

    def paragraph(self, text: str, *, note: bool = False) -> None:
        """A paragraph of ours; a `note` is a remark about the plan, such as "Not yet written."."""

    def answers(self, answers: Sequence[Answer]) -> None: ...

    def table(self, table: Table, caption: str) -> None: ...

    def bullets(self, bullets: Sequence[Bullet]) -> None:
        """A bulleted list, two levels deep at most."""

    def sign_off(self, sign_off: SignOff) -> None: ...


def _practice_bullet(p: PracticeLine) -> Bullet:
    return Bullet(p.title, note=p.summary)


def _write_chain(chain: Chain, writer: Writer) -> None:
    writer.paragraph(words.CHAIN_LEAD)
    number = 0
    for goal in chain.goals:
        if goal.placeholder:
            writer.heading(2, goal.title)
        else:
            number += 1
            writer.heading(2, f"{words.GOAL} {number}: {goal.title}")
        if not goal.objectives:
            writer.paragraph(words.NOT_WRITTEN, note=True)
        bullets = []
        for o in goal.objectives:
            about = [o.kind] if o.kind else []
            if o.measures:
                about.append(f"{words.MEASURED_BY}: {'; '.join(o.measures)}")
            practices = [_practice_bullet(p) for p in o.practices] or [Bullet(words.NO_PRACTICE_YET)]
            bullets.append(Bullet(o.title, note=". ".join(about), children=practices))
        if bullets:
            writer.bullets(bullets)
    if chain.untied:
        writer.heading(2, words.UNTIED)
        writer.bullets([_practice_bullet(p) for p in chain.untied])


def _write_timeline(timeline: Timeline, writer: Writer) -> None:
    writer.paragraph(timeline.lead)
    for month in timeline.months:
        writer.heading(2, month.label)
        bullets = []
        for e in month.entries:
            lead = ", ".join(fact for fact in (e.when, e.day) if fact)
            note = " \N{MIDDLE DOT} ".join(fact for fact in (e.owner, words.DONE if e.done else "") if fact)
            bullets.append(Bullet(e.title, lead=lead, note=note))
        writer.bullets(bullets)


def _write_section(section: Section, writer: Writer) -> None:
    if section.empty:
        writer.paragraph(words.NOT_WRITTEN, note=True)
        return
    if section.answers:
        writer.answers(section.answers)
    for part in section.parts:
        if part.empty and not part.required:
            continue
        writer.heading(2, part.entity.label_plural)
        if part.empty:
            writer.paragraph(words.NOT_WRITTEN, note=True)
        elif part.table is not None:
            writer.table(part.table, part.entity.label_plural)
        for card in part.cards:
            writer.heading(3, card.title)
            if card.answers:
                writer.answers(card.answers)


def _write_table(table: Table | None, lead: str, caption: str, writer: Writer) -> None:
    if table is None:
        writer.paragraph(words.NOT_WRITTEN, note=True)
        return
    writer.paragraph(lead)
    writer.table(table, caption)


def write_document(document: Document, writer: Writer) -> None:
    """Walk a built document in reading order, handing each piece to `writer`."""
    writer.cover(document.cover)

    writer.heading(1, words.CHAIN)
    if document.chain.empty:
        writer.paragraph(words.NOT_WRITTEN, note=True)
    else:
        _write_chain(document.chain, writer)
    writer.heading(1, words.REACH)
    _write_table(document.reach, words.REACH_LEAD, words.REACH, writer)
    writer.heading(1, words.WHO_DOES_WHAT)
    _write_table(document.workload, words.WHO_DOES_WHAT_LEAD, words.WHO_DOES_WHAT, writer)
    writer.heading(1, words.TIMELINE)
    if document.timeline.empty:
        writer.paragraph(words.NOT_WRITTEN, note=True)
    else:
        _write_timeline(document.timeline, writer)

    for section in document.sections:
        writer.heading(1, section.heading)
        _write_section(section, writer)

    coach = document.coach
    writer.heading(1, words.COACH)
    writer.paragraph(coach.lead)
    writer.paragraph(coach.summary)
    writer.table(coach.table(), words.COACH)

    writer.heading(1, words.SIGN_OFF)
    writer.paragraph(document.sign_off.text)
    writer.sign_off(document.sign_off)


def write(doc: dict[str, Any], writer: Writer, *, coach: Report | None = None, today: date | None = None) -> None:
    """Walk the plan document (`store.load_doc`) in reading order, handing each piece to `writer`.

    `coach` is the coach's report when the caller has it already; by default the coach reads
    the plan here."""
    write_document(build(doc, today=today, report=coach), writer)


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


def _bullet(bullet: Bullet) -> str:
    """One list entry on one line: **lead:** text — *note*."""
    text = escape(one_line(bullet.text))
    if bullet.lead:
        text = f"**{escape(one_line(bullet.lead), line_start=False)}:** {text}"
    if bullet.note:
        text += f" — *{escape(one_line(bullet.note), line_start=False)}*"
    return text


class MarkdownWriter:
    """Builds the Markdown text: blocks separated by blank lines."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def text(self) -> str:
        return "\n\n".join(self.blocks) + "\n"

    def cover(self, cover: Cover) -> None:
        self.blocks.append(f"# {escape(one_line(cover.title), line_start=False)}")
        self.blocks.append(f"*{escape(words.SUBTITLE)}*")
        # A backslash at the end of a line is CommonMark's hard line break.
        facts = [f"**{label}:** {escape(one_line(value), line_start=False)}" for label, value in cover.facts]
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
                self.blocks.append(f"{label} *{escape(words.NOT_WRITTEN, line_start=False)}*")
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

    def bullets(self, bullets: Sequence[Bullet]) -> None:
        lines = []
        for bullet in bullets:
            lines.append(f"- {_bullet(bullet)}")
            lines.extend(f"  - {_bullet(child)}" for child in bullet.children)
        self.blocks.append("\n".join(lines))

    def sign_off(self, sign_off: SignOff) -> None:
        header = [escape(label, line_start=False) for label in sign_off.columns]
        rows = [[escape(role, line_start=False), _cell(name), "", ""] for role, name in sign_off.rows]
        self.blocks.append(_table_lines(header, rows, [False] * len(header)))


def render_markdown(doc: dict[str, Any], *, coach: Report | None = None, today: date | None = None) -> str:
    """The whole plan document (`store.load_doc`) as Markdown.

    `coach` is the coach's report if the caller has it (`planner.coach.coach_report(doc)`);
    without it the coach reads the plan here.  `today` is the cover's "printed" date.
    """
    writer = MarkdownWriter()
    write(doc, writer, coach=coach, today=today)
    return writer.text()
