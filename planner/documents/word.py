"""The plan document as a Word file (.docx), built with python-docx.

It says what the Markdown and HTML versions say, in the same order: `markdown.write` walks the
document and `WordWriter` turns each piece into Word's own structure.  Steps, lists and items
are real Heading 1/2/3 paragraphs, so Word's navigation pane and a table of contents work;
lists of items are real tables whose header row repeats on every page, and the goals-to-practices
chain and the timeline are nested bulleted lists.  The cover carries the title, organization,
period, sponsor and status and a contents field, and the sign-off table ends the document.

User text goes in as run text, which python-docx escapes as XML; `printable` first removes the
characters XML cannot hold at all, so no answer can make the file unreadable.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import docx
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from planner.documents.content import NOT_WRITTEN, SIGN_OFF, SUBTITLE, Answer, Cover, SignOff, Table, words
from planner.documents.markdown import Bullet, write
from planner.domain import Kind
from planner.text import printable

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

    from planner.coach.report import Report

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Noto Sans covers Latin, Greek and Cyrillic; Word falls back per character for the rest.
# East Asian text keeps the template's theme font, which Word maps to an installed CJK font.
FONT = "Noto Sans"
BODY_SIZE = Pt(10.5)
TABLE_SIZE = Pt(9)
INK = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x6B, 0x6B, 0x6B)
FLAGGED = RGBColor(0xA8, 0x20, 0x0D)  # a row the document marks, such as a person given more hours than they have
HEADER_FILL = "E8E8E8"
SIGNATURE_ROW_HEIGHT = Mm(14)
# The page matches the printed document (static/print.css): A4 with the same margins.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGINS = {"top_margin": Mm(24), "right_margin": Mm(20), "bottom_margin": Mm(22), "left_margin": Mm(20)}
TEXT_WIDTH = PAGE_WIDTH - MARGINS["left_margin"] - MARGINS["right_margin"]
# Column widths follow the typical length of their entries, in characters, within these bounds.
MIN_COLUMN_WEIGHT, MAX_COLUMN_WEIGHT = 8, 45
# Contents list the steps (Heading 1) and their lists (Heading 2); items would make it pages long.
TOC_LEVELS = "1-2"


# ---------------------------------------------------------------- low-level helpers


def _text(value: Any) -> str:
    return printable(value) if value is not None else ""


def _use_font(document: DocxDocument) -> None:
    """Make every paragraph style use `FONT` for Latin, Greek, Cyrillic and complex scripts.

    The default template names theme fonts, which take precedence over named ones, so the
    theme attributes go; the East Asian theme font stays as the fallback for CJK text."""
    for fonts in document.styles.element.iter(qn("w:rFonts")):
        if fonts.get(qn("w:asciiTheme")) is None:
            continue  # a style that names its own font (the code styles): leave it
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:cs"):
            fonts.set(qn(attr), FONT)
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(6)
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3"):
        document.styles[name].font.color.rgb = INK
    document.styles["Subtitle"].font.color.rgb = MUTED


def _fld_char(paragraph: Paragraph, kind: str) -> None:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(element)


def _instruction(paragraph: Paragraph, instruction: str) -> None:
    element = OxmlElement("w:instrText")
    element.set(qn("xml:space"), "preserve")
    element.text = f" {instruction} "
    paragraph.add_run()._r.append(element)


def _field(paragraph: Paragraph, instruction: str, cached: str) -> None:
    """Append a one-run Word field (PAGE, NUMPAGES) showing `cached` until Word updates it."""
    _fld_char(paragraph, "begin")
    _instruction(paragraph, instruction)
    _fld_char(paragraph, "separate")
    paragraph.add_run(cached)
    _fld_char(paragraph, "end")


def _paragraph_after(paragraph: Paragraph) -> Paragraph:
    new = OxmlElement("w:p")
    paragraph._p.addnext(new)
    return Paragraph(new, paragraph._parent)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _row_property(row: Any, name: str) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement(name))


def _header_row(table: DocxTable, labels: Sequence[str], numeric: Sequence[bool]) -> None:
    """Fill the first row as the header: bold, shaded, and repeated at the top of each page."""
    row = table.rows[0]
    _row_property(row, "w:tblHeader")
    _row_property(row, "w:cantSplit")
    for cell, label, is_number in zip(row.cells, labels, numeric, strict=True):
        paragraph = cell.paragraphs[0]
        run = paragraph.add_run(_text(label))
        run.bold, run.font.size = True, TABLE_SIZE
        if is_number:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _shade(cell, HEADER_FILL)


def _fill_cell(cell: Any, value: str | list[str] | None, *, bold: bool = False, number: bool = False) -> None:
    """A cell's text: one paragraph per value of a list."""
    values = value if isinstance(value, list) else [value or ""]
    for i, v in enumerate(values):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(_text(v))
        run.bold, run.font.size = bold, TABLE_SIZE
        if number:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _column_weights(table: Table) -> list[float]:
    """How wide each column should be, relatively: as wide as its typical entry, within bounds,
    so a column of short names or numbers leaves room for one of sentences."""
    weights = []
    for i, column in enumerate(table.columns):
        lengths = [len(" ".join(v) if isinstance(v, list) else str(v or "")) for v in (r[i].value for r in table.rows)]
        typical = sum(lengths) / len(lengths) if lengths else 0
        longest_word = max((len(w) + 1 for w in column.label.split()), default=0)  # bold
        weights.append(min(MAX_COLUMN_WEIGHT, max(typical, longest_word, MIN_COLUMN_WEIGHT)))
    return weights


def _set_widths(grid: DocxTable, weights: Sequence[float]) -> None:
    total = sum(weights)
    widths = [int(TEXT_WIDTH * w / total) for w in weights]
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    # Word reads each cell's own width; LibreOffice reads the grid's.
    for row in grid.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


# ---------------------------------------------------------------- the writer


class WordWriter:
    """Builds the Word document piece by piece (see `markdown.Writer`)."""

    def __init__(self, *, created: datetime) -> None:
        self.document = docx.Document()
        self.created = created
        self.headings: list[tuple[int, str]] = []
        self._toc_anchor: Paragraph | None = None
        self._style_ids: dict[str, str] = {}
        _use_font(self.document)
        section = self.document.sections[0]
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        for name, value in MARGINS.items():
            setattr(section, name, value)

    def _style_id(self, name: str) -> str:
        # python-docx looks a style up by name by scanning every style, on every paragraph:
        # resolve each name once, which makes a long plan several times faster to write.
        if name not in self._style_ids:
            self._style_ids[name] = self.document.styles[name].style_id
        return self._style_ids[name]

    def _paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        paragraph = self.document.add_paragraph()
        if style:
            paragraph._p.style = self._style_id(style)
        if text:
            paragraph.add_run(text)
        return paragraph

    # -- the pieces

    def cover(self, cover: Cover) -> None:
        self._paragraph(_text(cover.title), "Title")
        self._paragraph(SUBTITLE, "Subtitle")
        for label, value in cover.facts:
            paragraph = self._paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(_text(value))
        self._paragraph(words.CONTENTS, "TOC Heading")
        # The contents field is filled in by `finish`, once every heading is known.
        self._toc_anchor = self._paragraph()
        self._set_properties(cover)

    def heading(self, level: int, text: str) -> None:
        text = " ".join(_text(text).split())
        self.headings.append((level, text))
        if level == 1 and len(self.headings) == 1:
            # The first step starts on a fresh page, after the cover and contents.
            self.document.add_section(WD_SECTION_START.NEW_PAGE)
        self._paragraph(text, f"Heading {level}")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        run = self._paragraph().add_run(_text(text))
        if note:
            run.italic = True
            run.font.color.rgb = MUTED

    def answers(self, answers: Sequence[Answer]) -> None:
        for a in answers:
            label = self._paragraph()
            label.add_run(f"{_text(a.label)}:").bold = True
            if not a.shown:
                run = label.add_run(f" {NOT_WRITTEN}")
                run.italic = True
                run.font.color.rgb = MUTED
            elif isinstance(a.value, list):
                label.paragraph_format.keep_with_next = True
                label.paragraph_format.space_after = Pt(2)
                for value in a.value:
                    if _text(value).strip():
                        self._paragraph(_text(value), "List Bullet")
            elif a.is_long:
                label.paragraph_format.keep_with_next = True
                label.paragraph_format.space_after = Pt(2)
                for lines in a.paragraphs:
                    self._paragraph(_text("\n".join(lines)))
            else:
                label.add_run(f" {_text(a.value)}")
                if a.note:
                    note = label.add_run(f" — {_text(a.note)}")
                    note.italic = True
                    note.font.color.rgb = MUTED

    def _grid(self, columns: int, caption: str) -> DocxTable:
        grid = self.document.add_table(rows=1, cols=columns)
        grid._tbl.tblStyle_val = self._style_id("Table Grid")
        # Screen readers announce a table by its caption (Word's alt text title).
        element = OxmlElement("w:tblCaption")
        element.set(qn("w:val"), _text(caption))
        grid._tbl.tblPr.append(element)
        return grid

    def table(self, table: Table, caption: str) -> None:
        numeric = [c.kind is Kind.NUMBER for c in table.columns]
        grid = self._grid(len(table.columns), caption)
        _header_row(grid, [c.label for c in table.columns], numeric)
        marks = table.marks or [""] * len(table.rows)
        for row, mark in zip(table.rows, marks, strict=True):
            cells = grid.add_row().cells
            for i, (cell, answer) in enumerate(zip(cells, row, strict=True)):
                _fill_cell(cell, answer.value, bold=i == 0 or (bool(mark) and numeric[i]), number=numeric[i])
                if mark and numeric[i]:
                    for run in cell.paragraphs[0].runs:
                        run.font.color.rgb = FLAGGED
        if table.totals:
            cells = grid.add_row().cells
            for i, (cell, total) in enumerate(zip(cells, table.totals, strict=True)):
                _fill_cell(cell, total, bold=True, number=numeric[i])
        _set_widths(grid, _column_weights(table))
        self._after_table()

    def bullets(self, bullets: Sequence[Bullet]) -> None:
        for bullet in bullets:
            self._bullet(bullet, "List Bullet")
            for child in bullet.children:
                self._bullet(child, "List Bullet 2")

    def _bullet(self, bullet: Bullet, style: str) -> None:
        paragraph = self._paragraph(style=style)
        paragraph.paragraph_format.space_after = Pt(2)
        if bullet.lead:
            paragraph.add_run(f"{_text(bullet.lead)}: ").bold = True
        paragraph.add_run(_text(bullet.text))
        if bullet.note:
            note = paragraph.add_run(f" — {_text(bullet.note)}")
            note.font.color.rgb = MUTED

    def sign_off(self, sign_off: SignOff) -> None:
        grid = self._grid(len(sign_off.columns), SIGN_OFF)
        _header_row(grid, sign_off.columns, [False] * len(sign_off.columns))
        for role, name in sign_off.rows:
            row = grid.add_row()
            row.height, row.height_rule = SIGNATURE_ROW_HEIGHT, WD_ROW_HEIGHT_RULE.AT_LEAST
            _row_property(row, "w:cantSplit")
            _fill_cell(row.cells[0], role, bold=True)
            _fill_cell(row.cells[1], name)
        self._after_table()

    # -- finishing

    def _after_table(self) -> None:
        # Two tables in a row would merge into one in Word; a small gap also reads better.
        self._paragraph().paragraph_format.space_after = Pt(4)

    def _set_properties(self, cover: Cover) -> None:
        props = self.document.core_properties
        props.title = _text(cover.title)
        props.subject = SUBTITLE
        props.author = _text(cover.organization) or "Planner"
        props.last_modified_by = "Planner"
        props.comments = ""
        props.keywords = "social media strategy; conversation before broadcast"
        props.created = props.modified = self.created
        props.revision = 1

    def _contents(self) -> None:
        """A TOC field whose cached result lists the headings, so the contents read well at once;
        Word adds page numbers when the field is updated (right-click, Update Field)."""
        anchor = self._toc_anchor
        if anchor is None:
            return
        wanted = [(level, text) for level, text in self.headings if level <= int(TOC_LEVELS[-1])]
        _fld_char(anchor, "begin")
        _instruction(anchor, f'TOC \\o "{TOC_LEVELS}" \\h \\z \\u')
        _fld_char(anchor, "separate")
        paragraph = anchor
        for i, (level, text) in enumerate(wanted):
            if i:
                paragraph = _paragraph_after(paragraph)
            paragraph.paragraph_format.left_indent = Mm(6 * (level - 1))
            paragraph.paragraph_format.space_after = Pt(2)
            paragraph.add_run(text).bold = level == 1
        _fld_char(paragraph, "end")

    def _header_and_footer(self, title: str) -> None:
        """A running header with the plan's title and "Page n of m" in the footer, on every page
        after the cover."""
        body = self.document.sections[-1]
        body.header.is_linked_to_previous = False
        body.footer.is_linked_to_previous = False
        header = body.header.paragraphs[0]
        run = header.add_run(title)
        run.font.size, run.font.color.rgb = Pt(8), MUTED
        footer = body.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        footer.add_run("Page ")
        _field(footer, "PAGE", "1")
        footer.add_run(" of ")
        _field(footer, "NUMPAGES", "1")
        for run in footer.runs:
            run.font.size, run.font.color.rgb = Pt(8), MUTED

    def finish(self) -> bytes:
        self._contents()
        # The template's thumbnail shows an empty page; better none than a wrong one.
        package_rels = self.document.part.package.rels
        for r_id in [r_id for r_id, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
            package_rels.pop(r_id)
        self._header_and_footer(self.document.core_properties.title)
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()


def render_docx(doc: dict[str, Any], *, coach: Report | None = None, today: date | None = None) -> bytes:
    """The whole plan document (`store.load_doc`) as the bytes of a .docx file.

    `coach` is the coach's report if the caller has it (`planner.coach.coach_report(doc)`);
    without it the coach reads the plan here.  `today` is the cover's "printed" date and the
    file's creation date.
    """
    created = datetime.combine(today, time(), UTC) if today else datetime.now(UTC).replace(microsecond=0)
    writer = WordWriter(created=created)
    write(doc, writer, coach=coach, today=today)
    return writer.finish()


__all__ = ["DOCX_MIMETYPE", "WordWriter", "render_docx"]
