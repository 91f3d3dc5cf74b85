"""How the plan document prints: a PDF a director would be glad to hand to the board.

The example plan's PDF is read back with pypdf: the contents give each part's page, and that
page really starts the part; running headers name the part a page belongs to; tables that run
over a page repeat their header; the summary (goals to practices, audiences, who does what,
the timeline) comes before the steps, and the coach's report and the sign-off end it.
The large plan (tests/plan_factory.py) is checked for what its document says; its PDF takes
tens of seconds, so that render is opt-in (PLANNER_LARGE_PDF=1) and docs/document.md has the numbers.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader

from planner.documents import content
from planner.documents.content import build
from planner.documents.render import render_html, render_pdf
from planner.interchange.example import example_document
from tests.plan_factory import LARGE, large_plan, sized_plan
from tests.test_document import PRINTED, example_pdf_bytes, squeezed

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


def test_the_contents_give_the_page_each_part_starts_on(example_pages: list[str]) -> None:
    entries = contents(example_pages)
    assert [heading for heading, _ in entries] == [h for _, h in build(example_document()["plan"]).contents]
    numbers = [number for _, number in entries]
    assert numbers == sorted(numbers) and numbers[0] == 3  # after the cover and the contents
    for heading, number in entries:
        # The part's heading is on that page (its running header only starts on the next).
        assert squeezed(heading) in squeezed(example_pages[number - 1]), heading


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


def test_the_summary_comes_first_and_the_sign_off_last(example_pages: list[str]) -> None:
    parts = list(spans(example_pages))
    assert parts[:4] == [content.CHAIN, content.REACH, content.WHO_DOES_WHAT, content.TIMELINE]
    assert parts[4].startswith("1. ")
    assert parts[-2:] == [content.COACH, content.SIGN_OFF]
    assert content.SIGN_OFF_TEXT in example_pages[-1]


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
    assert "Score:100outof100" in coach and "Broadcastorconversation?" in coach  # the text and the picture


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
