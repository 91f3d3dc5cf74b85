"""How the plan document prints: a PDF a director would be glad to hand to the board.

The example plan's PDF is read back with pypdf: the contents give each part's page, and that
page really starts the part; running headers name the part a page belongs to; tables that run
over a page repeat their header; the summary (goals to practices, audiences, who does what,
the timeline) comes before the steps, and the coach's report and the sign-off end it.
The tables are read back with pdfplumber (their cells from the PDF's tags, their columns from
the cells' borders), for the example plan, a plan whose tables run over pages, and one with very
long words and URLs in every cell: every character stays inside its cell and the page, dates keep
to one line, no column sits half empty while another wraps, no row is alone on a page, and no
page is left mostly blank.
The large plan (tests/plan_factory.py) is checked for what its document says; its PDF takes
tens of seconds, so that render is opt-in (PLANNER_LARGE_PDF=1) and docs/document.md has the numbers.
"""

from __future__ import annotations

import copy
import functools
import io
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader

from planner.coach import coach_report
from planner.documents import content
from planner.documents.content import build
from planner.documents.render import render_html, render_pdf
from planner.domain import ENTITIES, PLAN_FIELDS, Field, Kind
from planner.interchange.example import example_document
from tests.conftest import Web
from tests.plan_factory import LARGE, large_plan, sized_plan
from tests.test_document import PRINTED, example_pdf_bytes, squeezed

# Once is enough: this module draws PDFs of documents, so `make test` runs it in its PostgreSQL
# pass only (the SQLite pass, which has the browser tests, is the longer of the two side by side
# on two cores); run alone, on either database, it runs.
pytestmark = pytest.mark.skipif(
    os.environ.get("PLANNER_TEST_PASS") == "sqlite",
    reason="draws PDFs of documents, where the database plays no part: runs in the PostgreSQL pass",
)


CONTENTS_LINE = re.compile(r"^(\S.*?)\s*(?:\.\s*)+(\d+)\s*$", re.M)


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def contents(pages: list[str]) -> list[tuple[str, int]]:
    """(heading, page number) for each line of the contents, which is the second page."""
    assert pages[1].startswith(content.CONTENTS)
    return [(heading, int(number)) for heading, number in CONTENTS_LINE.findall(pages[1])]


def spans(pages: list[str]) -> dict[str, range]:
    """For each part of the document, the pages it may cover, by the contents: from its first
    page to the first page of the next part, which it may share."""
    entries = contents(pages)
    ends = [number for _, number in entries[1:]] + [len(pages)]
    return {heading: range(start, end + 1) for (heading, start), end in zip(entries, ends, strict=True)}


@pytest.fixture(scope="module")
def example_pages(app: Flask) -> list[str]:
    """The text of each page of the example plan's PDF (extracting it takes a moment: once)."""
    with app.app_context():
        return pages_of(example_pdf_bytes())


def structure(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every structure element under `node` of a tagged PDF, in document order."""
    node = node.get_object()
    if "/S" in node:
        found.append(node)
    kids = node.get("/K", [])
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict):
            structure(kid, found)
    return found


@pytest.mark.pdf
def test_the_pdf_is_tagged_so_that_a_screen_reader_finds_its_structure(app: Flask) -> None:
    with app.app_context():
        root = PdfReader(io.BytesIO(example_pdf_bytes())).trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "en"
    elements = structure(root["/StructTreeRoot"], [])
    roles = [element["/S"] for element in elements]
    assert roles.count("/H1") == 1 and "/H2" in roles
    assert {"/Table", "/TH", "/TD", "/L", "/LI", "/Link"} <= set(roles)
    # The coach's picture is a figure with words for those who cannot see it.
    (figure,) = (element for element in elements if element["/S"] == "/Figure")
    assert "Eastside Tool Library" in figure["/Alt"]


# ------------------------------------------------------------ contents, headers and page numbers


@pytest.mark.pdf
def test_the_contents_give_the_page_each_part_starts_on(example_pages: list[str]) -> None:
    entries = contents(example_pages)
    assert [heading for heading, _ in entries] == [h for _, h in build(example_document()["plan"]).contents]
    numbers = [number for _, number in entries]
    assert numbers == sorted(numbers) and numbers[0] == 3  # after the cover and the contents
    for heading, number in entries:
        # The part's heading is on that page (its running header only starts on the next).
        assert squeezed(heading) in squeezed(example_pages[number - 1]), heading


@pytest.mark.pdf
def test_running_headers_name_the_part_and_number_the_pages(example_pages: list[str]) -> None:
    title = example_document()["plan"]["title"]
    total = len(example_pages)
    for heading, pages in spans(example_pages).items():
        for number in pages:
            text = example_pages[number - 1]
            assert f"Page {number} of {total}" in text
            assert title in text
            if pages.start < number < pages.stop - 1:  # neither its first page nor one it shares
                assert heading in text, (heading, number)


@pytest.mark.pdf
def test_the_summary_comes_first_and_the_sign_off_last(example_pages: list[str]) -> None:
    parts = list(spans(example_pages))
    assert parts[:4] == [content.CHAIN, content.REACH, content.WHO_DOES_WHAT, content.TIMELINE]
    assert parts[4].startswith("1. ")
    assert parts[-2:] == [content.COACH, content.SIGN_OFF]
    assert content.SIGN_OFF_TEXT in example_pages[-1]


@pytest.mark.pdf
def test_a_table_that_runs_over_a_page_repeats_its_header_and_keeps_rows_whole(ctx: Flask) -> None:
    plan = sized_plan({"person": 40, "practice": 12}, title="Forty people")
    pages = pages_of(render_pdf(plan, today=PRINTED))
    table = build(plan).workload
    assert table is not None
    span = [squeezed(pages[n - 1]) for n in spans(pages)[content.WHO_DOES_WHAT]]
    rows = [(squeezed(str(row[0].value)), squeezed(str(row[-1].value))) for row in table.rows]
    # The pages the table's rows print on (the plan has no milestones: no names but these).
    printed_on = [page for page in span if any(name in page for name, _ in rows)]
    assert len(printed_on) > 1
    for page in printed_on:
        assert "Hoursaweek" in page  # the header, again on every page
    for name, hours in rows:
        # A row's first and last cells print on the same page: it was not cut in two.
        assert any(name in page and hours in page for page in printed_on), name


# ------------------------------------------------------------ what the summary says, in print


def text_of(pages: list[str], heading: str) -> str:
    span = spans(pages)[heading]
    return squeezed("".join(pages[n - 1] for n in span))


@pytest.mark.pdf
def test_the_pdf_summary_uses_the_plans_own_words(example_pages: list[str]) -> None:
    plan = example_document()["plan"]
    chain = text_of(example_pages, content.CHAIN)
    for item in plan["goals"] + plan["objectives"]:
        assert squeezed(item["statement"]) in chain
    for practice in plan["practices"]:
        assert squeezed(practice["description"]) in chain
    reach = text_of(example_pages, content.REACH)
    assert all(squeezed(s["name"]) in reach for s in plan["segments"])
    who = text_of(example_pages, content.WHO_DOES_WHAT)
    assert all(squeezed(p["name"]) in who for p in plan["people"])
    assert squeezed("1.75 h of 1 h: over by 0.75 h") in who  # Tom Brennan has more to do than time
    timeline = text_of(example_pages, content.TIMELINE)
    titles = [squeezed(m["title"]) for m in sorted(plan["milestones"], key=lambda m: m["due"])]
    positions = [timeline.index(t) for t in titles]
    assert positions == sorted(positions)
    coach = text_of(example_pages, content.COACH)
    # The text and the picture; the score is the coach's, which counts Tom Brennan's overload too.
    score = coach_report(plan).score
    assert score < 100
    assert f"Score:{score}outof100" in coach and "Broadcastorconversation?" in coach


# ------------------------------------------------------------ the print stylesheet


def test_the_print_stylesheet_keeps_rows_whole_and_headings_with_what_follows(app: Flask) -> None:
    css = " ".join(Path(app.static_folder or "", "print.css").read_text(encoding="utf-8").split())
    for rule in (
        "table.items thead { display: table-header-group; }",
        "table.items tr { break-inside: avoid; }",
        "h1, h2, h3, h4 { line-height: 1.2; break-after: avoid; }",
        "target-counter(attr(href), page)",
        'content: "Page " counter(page) " of " counter(pages)',
    ):
        assert rule in css, rule


# ------------------------------------------------------------ tables a board can read
#
# The PDF is read back with pdfplumber.  WeasyPrint tags the PDF, so its structure tree says
# which characters belong to which table cell (each cell's marked-content ids), and each cell's
# bottom border is a line as wide as the cell: those lines give a table's column edges.

MM = 72 / 25.4
SIDE_MARGIN = 20 * MM  # print.css: @page { margin: 24mm 20mm 22mm }
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskapitänswitwe"
LONG_URL = "https://www.example.org/neighbourhood/listening-log/2027/spring/volunteer-replies?sort=oldest"
Char = dict[str, Any]


def long_words_plan() -> dict[str, Any]:
    """The example plan with a very long word and a long URL in every one-line text and list:
    every table cell, every name that other tables cite, the title in the running header."""
    plan = copy.deepcopy(example_document()["plan"])
    suffix = f" {LONG_WORD} {LONG_URL}"

    def grow(f: Field, value: Any) -> Any:
        if f.kind is Kind.TEXT and isinstance(value, str) and value:
            return value[: f.max_length - len(suffix)] + suffix
        if f.kind is Kind.LIST and isinstance(value, list):
            return [*value, LONG_URL]
        return value

    for f in PLAN_FIELDS:
        plan[f.name] = grow(f, plan.get(f.name))
    for entity in ENTITIES:
        for record in plan.get(entity.collection, []):
            record.update({f.name: grow(f, record[f.name]) for f in entity.fields if f.name in record})
    return plan


def stress_plan() -> dict[str, Any]:
    """A plan with every kind of table long enough to run over pages."""
    counts = {"goal": 3, "objective": 5, "segment": 10, "person": 14, "channel": 6, "listening_target": 8}
    counts |= {"practice": 14, "concern": 4, "metric": 6, "milestone": 12}
    return sized_plan(counts, title="Stress plan")


@dataclass
class Cell:
    page: int
    chars: list[Char]

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    def lines(self) -> list[list[Char]]:
        """The cell's characters line by line (one line: tops within 3 pt of each other)."""
        out: list[list[Char]] = []
        for c in sorted(self.chars, key=lambda c: (round(c["top"]), c["x0"])):
            if out and abs(out[-1][0]["top"] - c["top"]) < 3:
                out[-1].append(c)
            else:
                out.append([c])
        return [line for line in out if "".join(c["text"] for c in line).strip()]


@dataclass
class Row:
    page: int
    head: bool  # the table's header row (repeated on each page the table runs over)
    cells: list[Cell]


@dataclass
class PdfTable:
    rows: list[Row]
    heading_page: int | None  # the page of the heading just before the table
    edges: dict[int, list[float]] = field(default_factory=dict)  # per page: column edges, left to right

    def column(self, cell: Cell) -> tuple[int, float, float]:
        """The column a cell belongs to (its first character starts in it) and its edges."""
        edges = self.edges[cell.page]
        x = cell.chars[0]["x0"] + 0.5
        i = max([0] + [i for i, e in enumerate(edges[:-1]) if e <= x])
        return i, edges[i], edges[i + 1]

    def labels(self) -> list[str]:
        """The header's column labels, left to right."""
        head = next((row for row in self.rows if row.head), None)
        if head is None:
            return []
        return [squeezed(c.text) for c in sorted(head.cells, key=lambda c: c.chars[0]["x0"])]


def _kids(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node.get("children", []))


def _find(node: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    if node["type"] == kind:
        return [node]
    return [found for kid in _kids(node) for found in _find(kid, kind)]


def _marks(node: dict[str, Any]) -> list[tuple[int, int]]:
    """(page, marked-content id) of every piece of text under a structure element."""
    found = [(node["page_number"], m) for m in node.get("mcids", [])]
    return found + [mark for kid in _kids(node) for mark in _marks(kid)]


@dataclass
class Page:
    width: float
    height: float
    chars: list[Char]  # the characters that print something (not spaces)
    lines: list[dict[str, Any]]  # the horizontal lines: table borders


@functools.cache  # reading a PDF's characters takes seconds: once per PDF
def read(pdf: bytes) -> tuple[list[Page], list[dict[str, Any]]]:
    """The PDF's pages, and its structure tree."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = [
            Page(
                page.width,
                page.height,
                [c for c in page.chars if c["text"].strip()],
                [ln for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.1],
            )
            for page in doc.pages
        ]
        return pages, doc.structure_tree


@functools.cache
def read_tables(pdf: bytes) -> list[PdfTable]:
    """Every table of the PDF: its rows, page by page, each cell's characters, its column edges."""
    pages, tree = read(pdf)
    chars: dict[tuple[int, int], list[Char]] = {}
    for number, page in enumerate(pages, start=1):
        for c in page.chars:
            if c.get("mcid") is not None:
                chars.setdefault((number, c["mcid"]), []).append(c)

    def text_of(node: dict[str, Any]) -> list[Char]:
        return [c for mark in _marks(node) for c in chars.get(mark, [])]

    def everything(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(found for kid in _kids(node) for found in everything(kid))]

    found: list[PdfTable] = []
    for parent in everything({"type": "root", "children": tree}):
        heading_page = None
        for node in _kids(parent):
            if node["type"] in ("H2", "H3"):
                heading_page = min(page for page, _ in _marks(node))
            if node["type"] != "Table":
                continue
            rows = []
            for group in _kids(node):
                for tr in _find(group, "TR"):
                    cells = [Cell(0, text_of(kid)) for kid in _kids(tr)]
                    cells = [cell for cell in cells if cell.chars]
                    if cells:
                        page = cells[0].chars[0]["page_number"]
                        for cell in cells:
                            cell.page = page
                        rows.append(Row(page, group["type"] == "THead", cells))
            table = PdfTable(rows, heading_page)
            for page in {row.page for row in rows}:
                on_page = [c for row in rows if row.page == page for cell in row.cells for c in cell.chars]
                top, bottom = min(c["top"] for c in on_page) - 2, max(c["bottom"] for c in on_page) + 10
                borders = [ln for ln in pages[page - 1].lines if top <= ln["top"] <= bottom]
                table.edges[page] = sorted(
                    {round(b["x0"], 1) for b in borders} | {round(max(b["x1"] for b in borders), 1)}
                )
            found.append(table)
            heading_page = None
    # WeasyPrint tags each page's part of a table as a table of its own: the part that goes on
    # from the page before (no heading, the same header) joins the table it continues.
    joined: list[PdfTable] = []
    for table in sorted(found, key=lambda t: min(t.edges)):
        last = joined[-1] if joined else None
        if (
            last
            and table.heading_page is None
            and table.labels() in ([], last.labels())
            and max(last.edges) + 1 == min(table.edges)
        ):
            last.rows += table.rows
            last.edges |= table.edges
        else:
            joined.append(table)
    return joined


def strays(pdf: bytes) -> list[str]:
    """Every character off the page's text column, and every cell whose text leaves its column."""
    found = []
    for number, page in enumerate(read(pdf)[0], start=1):
        off = [c for c in page.chars if not SIDE_MARGIN - 1 < c["x0"] <= c["x1"] < page.width - SIDE_MARGIN + 1]
        if off:
            found.append(f"page {number}: {''.join(c['text'] for c in off)[:30]!r} runs off the text column")
    for table in read_tables(pdf):
        for row in table.rows:
            for cell in row.cells:
                _, left, right = table.column(cell)
                out = [c for c in cell.chars if c["x0"] < left - 0.5 or c["x1"] > right + 0.5]
                if out:
                    found.append(f"page {cell.page}: {cell.text[:40]!r} leaves its column {left:.0f}-{right:.0f} pt")
    return found


def fill(pdf: bytes) -> list[float]:
    """For each page, how far down its text area the text reaches (0: blank, 1: full)."""
    found = []
    for page in read(pdf)[0]:
        top, bottom = 24 * MM, page.height - 22 * MM
        body = [c["bottom"] for c in page.chars if top - 1 < c["top"] and c["bottom"] < bottom + 1]
        found.append((max(body, default=top) - top) / (bottom - top))
    return found


@pytest.fixture(scope="module")
def pdfs(app: Flask) -> dict[str, bytes]:
    """The example plan's PDF, a plan long enough to run every table over pages, and one with
    very long words and URLs in every cell (rendered once for the module)."""
    with app.app_context(), app.test_request_context():
        return {
            "example": example_pdf_bytes(),
            "stress": render_pdf(stress_plan(), today=PRINTED),
            "long words": render_pdf(long_words_plan(), today=PRINTED),
        }


@pytest.mark.parametrize("plan", ["example", "stress", "long words"])
@pytest.mark.pdf
def test_every_word_stays_inside_its_cell_and_the_page(pdfs: dict[str, bytes], plan: str) -> None:
    pdf = pdfs[plan]
    assert len(read_tables(pdf)) >= 8  # every summary and step table, and the sign-off
    assert strays(pdf) == []


@pytest.mark.pdf
def test_the_long_words_are_printed_whole_not_dropped(pdfs: dict[str, bytes]) -> None:
    text = squeezed("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdfs["long words"])).pages))
    assert text.count(squeezed(LONG_URL)) > 20 and text.count(LONG_WORD) > 20


DATE_LABELS = {squeezed(f.label) for e in ENTITIES for f in e.fields if f.kind is Kind.DATE}


@pytest.mark.parametrize("plan", ["example", "stress"])
@pytest.mark.pdf
def test_a_date_in_a_table_never_wraps(pdfs: dict[str, bytes], plan: str) -> None:
    dated = [t for t in read_tables(pdfs[plan]) if DATE_LABELS & set(t.labels())]
    assert dated
    for table in dated:
        for row in table.rows:
            for cell in row.cells:
                i, _, _ = table.column(cell)
                if not row.head and table.labels()[i] in DATE_LABELS:
                    assert len(cell.lines()) == 1, f"page {cell.page}: {cell.text!r} wraps"


@pytest.mark.parametrize("plan", ["example", "stress"])
@pytest.mark.pdf
def test_no_column_sits_half_empty_while_another_wraps(pdfs: dict[str, bytes], plan: str) -> None:
    for table in read_tables(pdfs[plan]):
        columns = len(table.labels())
        widest = [0.0] * columns  # per column, its widest line's share of the column's width
        wraps = [False] * columns
        filled = [False] * columns  # the sign-off's last columns are left blank to sign in
        for row in table.rows:
            for cell in row.cells:
                i, left, right = table.column(cell)
                widest[i] = max(widest[i], max(line[-1]["x1"] - left for line in cell.lines()) / (right - left))
                wraps[i] |= len(cell.lines()) > 1
                filled[i] |= not row.head
        half_empty = [
            label for label, share, f in zip(table.labels(), widest, filled, strict=True) if f and share < 0.5
        ]
        assert not (half_empty and any(wraps)), f"{half_empty} half empty in {table.labels()}"


@pytest.mark.pdf
def test_a_row_is_never_left_alone_at_a_pages_foot_or_head(ctx: Flask, pdfs: dict[str, bytes]) -> None:
    people = render_pdf(sized_plan({"person": 40, "practice": 12}, title="Forty people"), today=PRINTED)
    spread = 0
    for pdf in (pdfs["example"], pdfs["stress"], people):
        for table in read_tables(pdf):
            body = [row for row in table.rows if not row.head]
            pages = sorted({row.page for row in body})
            spread += len(pages) > 1
            for page in pages:
                count = sum(row.page == page for row in body)
                assert count >= 2 or len(body) < 2, f"page {page}: one row of {table.labels()} alone"
            # The heading stays with its table, and the header with the first row.
            assert table.heading_page in (None, pages[0]), table.labels()
            assert table.rows[0].head and table.rows[0].page == pages[0], table.labels()
    assert spread >= 2  # the plans do make tables run over pages


@pytest.mark.parametrize("plan", ["example", "stress"])
@pytest.mark.pdf
def test_no_page_is_left_mostly_blank_by_a_break(pdfs: dict[str, bytes], plan: str) -> None:
    # The cover and the contents are pages of their own, and the last page ends the document.
    shares = fill(pdfs[plan])
    blank = [(number, round(share, 2)) for number, share in enumerate(shares[2:-1], start=3) if share < 0.5]
    assert blank == []


# ------------------------------------------------------------ the words on the cover


@pytest.mark.pdf
def test_the_cover_and_the_home_pages_name_the_plan_for_what_it_is(
    pdfs: dict[str, bytes], example_plan: Any, web: Web, anonymous: Web
) -> None:
    # A 2026 board reads "social media strategy"; "web20-plan" stays the JSON format's name.
    cover = PdfReader(io.BytesIO(pdfs["example"])).pages[0].extract_text()
    assert "Social media strategy" in cover
    texts = {"the PDF's cover": cover, "the home page": anonymous.get("/").get_data(as_text=True)}
    texts["the plan list"] = web.get("/").get_data(as_text=True)
    for kind in ("", ".md"):
        texts[f"document{kind}"] = web.get(f"/plans/{example_plan.id}/document{kind}").get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(web.get(f"/plans/{example_plan.id}/document.docx").data)) as docx:
        texts |= {name: docx.read(name).decode() for name in docx.namelist() if name.endswith(".xml")}
    assert [where for where, text in texts.items() if re.search(r"web\s*2\.0", text, re.I)] == []
    assert '"format": "web20-plan"' in web.get(f"/plans/{example_plan.id}/export.json").get_data(as_text=True)


# ------------------------------------------------------------ the large plan


@pytest.fixture(scope="module")
def large() -> dict[str, Any]:
    return large_plan()


def test_the_large_plan_is_the_size_it_claims(large: dict[str, Any]) -> None:
    from planner.domain import ENTITY_BY_NAME

    assert {name: len(large[ENTITY_BY_NAME[name].collection]) for name in LARGE} == LARGE
    assert large_plan() == large  # seeded: the same plan every time


def test_the_large_plan_document_says_everything_once_in_readable_form(ctx: Flask, large: dict[str, Any]) -> None:
    document = build(large, today=PRINTED)
    chain = document.chain
    placed = [p for g in chain.goals for o in g.objectives for p in o.practices] + chain.untied
    assert len(placed) == LARGE["practice"]
    assert chain.untied  # the generator leaves some practices untied, as real plans do
    assert document.reach is not None and len(document.reach.rows) >= LARGE["segment"]
    assert document.workload is not None and len(document.workload.rows) >= LARGE["person"]
    assert "over" in document.workload.marks
    entries = [e for m in document.timeline.months for e in m.entries]
    assert len(entries) == LARGE["milestone"]

    with ctx.test_request_context():
        html = render_html(large, today=PRINTED)
    for practice in large["practices"]:
        assert str(escape(practice["description"])) in html


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("PLANNER_LARGE_PDF"), reason="set PLANNER_LARGE_PDF=1: takes tens of seconds")
@pytest.mark.pdf
def test_the_large_plan_prints(ctx: Flask, large: dict[str, Any]) -> None:
    started = time.perf_counter()
    pdf = render_pdf(large, today=PRINTED)
    seconds = time.perf_counter() - started
    pages = pages_of(pdf)
    print(f"large plan: {len(pages)} pages in {seconds:.1f} s")
    parts = spans(pages)
    assert list(parts)[-1] == content.SIGN_OFF
    for heading in (content.REACH, content.WHO_DOES_WHAT):
        column = "Practices that reach them" if heading == content.REACH else "Hours a week"
        assert len(parts[heading]) > 2
        for number in parts[heading][:-1]:  # the last page is where the next part starts
            assert column in pages[number - 1], (heading, number)
