"""The plan as Markdown and as a Word file: everything the team wrote, in order, safely.

Both formats are plain functions of a plan document, so these tests need no app or database.
Markdown has no renderer installed here, so its safety is checked on the escaped source.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import replace
from datetime import date
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn

from planner.coach import Status, coach_report
from planner.documents import content
from planner.documents.content import COACH, NOT_WRITTEN, SIGN_OFF, SIGN_OFF_ROLES, WHO_DOES_WHAT
from planner.documents.markdown import escape, one_line, render_markdown
from planner.documents.word import render_docx
from planner.domain import ENTITIES, ENTITY_BY_COLLECTION, ENTITY_BY_NAME, PLAN_FIELDS, STEPS, Kind
from planner.domain import declaration as declaration_module
from planner.domain.spec import text
from planner.interchange.example import example_document
from planner.plans.view import display, items, names, title_of

TODAY = date(2026, 1, 5)
PERIOD = "1 March 2027 \N{EN DASH} 29 February 2028"  # the example plan's, in words
DOCUMENT_STEPS = [s for s in STEPS if s.plan_fields or s.entities]
SUMMARY = [content.CHAIN, content.REACH, content.WHO_DOES_WHAT, content.TIMELINE]
# The top-level parts of every format, in order: the summary, the steps, the coach, the sign-off.
PARTS = [*SUMMARY, *(f"{s.number}. {s.title}" for s in DOCUMENT_STEPS), COACH, SIGN_OFF]
KEY = re.compile(r"\b(?:g|o|s|p|c|l|pr|cn|m|ms)\d+\b")

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_LINK = "[link](javascript:alert(1))"
HOSTILE_PIPE = "| pipe | and more |"
HOSTILE_UNICODE = "Кириллица 🎉 Zoë"
HOSTILE_MISSION = "# heading\n- not a list\n1. not numbered\n> not a quote\n```\nnot code\n```\n    not indented code"


# ---------------------------------------------------------------- helpers


def every_text(doc: dict[str, Any]) -> list[str]:
    """Every answer in the plan as a reader sees it, one line of text each."""
    known = names(doc)
    out: list[str] = []

    def add(f: Any, value: Any) -> None:
        shown = display(f, value, known)
        for v in shown if isinstance(shown, list) else [shown]:
            if v:
                out.extend(line.strip() for line in str(v).splitlines() if line.strip())

    for f in PLAN_FIELDS:
        add(f, doc.get(f.name))
    for entity in ENTITIES:
        for item in items(doc, entity):
            for f in entity.fields:
                add(f, item.get(f.name))
    return out


def word_document(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def word_text(document: Any) -> str:
    """All the text of a Word document: body paragraphs and every table cell."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def headings(document: Any) -> dict[int, list[str]]:
    """The text of the document's Heading 1, 2 and 3 paragraphs, by level."""
    found: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for p in document.paragraphs:
        if match := re.fullmatch(r"Heading ([123])", p.style.name):
            found[int(match.group(1))].append(p.text)
    return found


def table_with_header(document: Any, *labels: str) -> Any:
    for table in document.tables:
        header = [c.text for c in table.rows[0].cells]
        if list(labels) == header[: len(labels)]:
            return table
    raise AssertionError(f"no table whose header starts {labels}")


def md_table(markdown: str, *labels: str) -> list[list[str]]:
    """The rows (header included, rule excluded) of the Markdown table whose header starts with `labels`."""
    for block in markdown.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("| " + " | ".join(labels)):
            return [_cells(line) for line in lines if not re.fullmatch(r"\|( -+:? \|)+", line)]
    raise AssertionError(f"no table whose header starts {labels}")


def _cells(line: str) -> list[str]:
    # Split at pipes that are not escaped.
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def hostile_doc() -> dict[str, Any]:
    return {
        "title": HOSTILE_SCRIPT,
        "organization": "Acme\x01 Ltd",
        "mission": HOSTILE_MISSION,
        "sponsor": HOSTILE_UNICODE,
        "goals": [{"key": "g1", "statement": HOSTILE_LINK, "why": "*bold* _em_ `code` ~~gone~~ $x$ {attr}"}],
        "people": [
            {"key": "p1", "name": HOSTILE_PIPE, "role": "line one\nline two", "is_leader": True, "hours_per_week": 2},
            {"key": "p2", "name": "# not a heading", "role": "- not a list", "is_leader": False},
        ],
        "segments": [
            {"key": "s1", "name": "Neighbours", "cares_about": ["- dash", "1. one", "<b>bold</b>"], "participation": []}
        ],
        "milestones": [{"key": "ms1", "title": "Launch\x0b <img src=x onerror=alert(1)>", "owner": "p1"}],
    }


@pytest.fixture
def plan(example_doc: dict[str, Any]) -> dict[str, Any]:
    """The example plan, a fresh copy that a test may change."""
    return example_doc["plan"]


# Writing a Word file takes a second or two: the tests that only read the example's share one.
@pytest.fixture(scope="module")
def example_markdown() -> str:
    return render_markdown(example_document()["plan"], today=TODAY)


@pytest.fixture(scope="module")
def example_word() -> Any:
    return word_document(render_docx(example_document()["plan"], today=TODAY))


# ---------------------------------------------------------------- Markdown


def test_markdown_has_every_answer(plan: dict[str, Any], example_markdown: str) -> None:
    md = example_markdown
    missing = [t for t in every_text(plan) if escape(one_line(t), line_start=False) not in md]
    assert not missing


def test_markdown_names_every_item_and_never_a_key(plan: dict[str, Any], example_markdown: str) -> None:
    md = example_markdown
    for entity in ENTITIES:
        for item in items(plan, entity):
            assert escape(one_line(title_of(entity, item)), line_start=False) in md
    assert KEY.findall(md) == []


def test_markdown_is_grouped_by_step_with_the_title_first(plan: dict[str, Any], example_markdown: str) -> None:
    md = example_markdown
    lines = md.splitlines()
    assert lines[0] == f"# {escape(plan['title'], line_start=False)}"
    assert sum(1 for line in lines if re.match(r"# ", line)) == 1
    sections = [line for line in lines if line.startswith("## ")]
    assert sections == [f"## {escape(part, line_start=False)}" for part in PARTS]
    organization = md.index(f"**Organization:** {escape(plan['organization'], line_start=False)}")
    period = md.index(f"**Plan period:** {PERIOD}")
    status = md.index(f"**Status:** {content.READY}")
    assert organization < period < status < md.index(f"## {content.CHAIN}")
    assert "### People" in md and "#### " in md  # lists under steps, items under lists


def test_markdown_tables(plan: dict[str, Any], example_markdown: str) -> None:
    md = example_markdown
    people = md_table(md, "Name", "Role")
    assert people[0][:4] == ["Name", "Role", "Is a leader of the organization", "Hours per week for this plan"]
    dana = next(row for row in people if row[0] == "Dana Whitfield")
    assert dana[2:4] == ["Yes", "6"]
    assert people[-1][0] == "**Total**"

    milestones = md_table(md, "Milestone")
    assert milestones[0] == ["Milestone", "Due", "Owner", "Done"]
    assert milestones[1][:2] == ["The team agrees the voice, the guidelines and the response protocol", "8 March 2027"]
    assert {row[2] for row in milestones[1:]} <= {p["name"] for p in plan["people"]}

    sign_off = md_table(md, "Role", "Name", "Signature", "Date")
    assert [row[0] for row in sign_off[1:]] == list(SIGN_OFF_ROLES)
    assert sign_off[1][1] == escape(plan["sponsor"], line_start=False)
    # Every row of every table has as many cells as its header.
    for block in md.split("\n\n"):
        if block.startswith("| "):
            widths = {len(_cells(line)) for line in block.splitlines()}
            assert len(widths) == 1, block


def test_markdown_carries_the_summary_in_the_plans_own_words(plan: dict[str, Any], example_markdown: str) -> None:
    md = example_markdown
    chain = md[md.index(f"## {content.CHAIN}") : md.index(f"## {content.REACH}")]
    # Goals are headings; under each, its objectives, and under each objective its practices.
    goal = plan["goals"][0]["statement"]
    objective = next(o for o in plan["objectives"] if o["goal"] == plan["goals"][0]["key"])
    practice = next(p for p in plan["practices"] if p["objective"] == objective["key"])
    assert f"### {content.GOAL} 1: {escape(goal, line_start=False)}" in chain
    assert f"\n- {escape(objective['statement'])} — *" in chain
    assert f"\n  - {escape(practice['description'])} — *Listen · Amara Osei, Zoë Haddad · 1.5 h a week*" in chain

    reach = md_table(md, "Audience segment", "Priority", "Practices that reach them", "Where we listen")
    assert [row[0] for row in reach[1:-1]] == [escape(s["name"], line_start=False) for s in plan["segments"]]

    workload = md_table(md, "Person", "Practices", "Listening targets", "Hours a week")
    assert [workload[3][0], workload[3][-1]] == ["Zoë Haddad", "3.25 h of 3 h: over by 0.25 h"]
    assert workload[-1] == ["**Total**", "", "", "**11 h of 16 h**"]

    timeline = md[md.index(f"## {content.TIMELINE}") : md.index("## 1. ")]
    titles = [m["title"] for m in sorted(plan["milestones"], key=lambda m: m["due"])]
    positions = [timeline.index(escape(one_line(t))) for t in titles]
    assert positions == sorted(positions)
    assert "- **8 March 2027, Day 8:** The team agrees" in timeline and "*Dana Whitfield · Done*" in timeline
    assert "### March 2027" in timeline


def test_markdown_escapes_hostile_text() -> None:
    md = render_markdown(hostile_doc(), today=TODAY)
    lines = md.splitlines()
    # Raw HTML shows as text: no tag survives, in any renderer.
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    # A typed link is not a link.
    assert "[link](javascript:" not in md
    assert "\\[link\\](javascript:alert(1))" in md
    # Typed structure stays text: no heading, list, quote or code block starts a line.
    assert "\\# heading" in md
    assert not any(line.startswith(("# heading", "- not a list", "1. not", "> not", "```", "    ")) for line in lines)
    assert "\\- not a list" in md and "1\\. not numbered" in md and "&gt; not a quote" in md
    assert "- \\- dash" in md and "- 1\\. one" in md  # list items that look like lists
    assert "### \\# not a heading" not in md  # item names in tables are cells, not headings
    assert "\\*bold\\* \\_em\\_ \\`code\\` \\~\\~gone\\~\\~ \\$x\\$ \\{attr\\}" in md
    # A pipe in a cell does not add a column, and a newline does not end the row.
    people = md_table(md, "Name", "Role")
    assert [row[:2] for row in people[1:-1]] == [
        ["\\| pipe \\| and more \\|", "line one line two"],
        ["\\# not a heading", "- not a list"],  # inside a cell a dash starts no list
    ]
    # Control characters are gone; other scripts and emoji are kept.
    assert "\x01" not in md and "\x0b" not in md
    assert "Acme Ltd" in md
    assert HOSTILE_UNICODE in md


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),
        ("back\\slash", "back\\\\slash"),
        ("+ plus", "\\+ plus"),
        ("===", "\\==="),
        ("---", "\\---"),
        ("2) two", "2\\) two"),
        ("  - indented", "\\- indented"),
        ("part-time (paid). Great!", "part-time (paid). Great!"),
    ],
)
def test_escape(typed: str, escaped: str) -> None:
    assert escape(typed) == escaped


def test_empty_plan_says_what_is_missing() -> None:
    md = render_markdown({"title": "Just started"}, today=TODAY)
    assert md.startswith("# Just started\n")
    assert f"*{escape(NOT_WRITTEN)}*" in md
    who = md[md.index(f"## {WHO_DOES_WHAT}") :]
    assert who.split("\n\n")[1] == f"*{escape(NOT_WRITTEN)}*"
    assert "**Status:** Draft — 0 of 9 steps complete" in md
    document = word_document(render_docx({"title": "Just started"}, today=TODAY))
    assert NOT_WRITTEN in word_text(document)


# ---------------------------------------------------------------- Word


def test_word_has_every_answer(plan: dict[str, Any], example_word: Any) -> None:
    text = word_text(example_word)
    missing = [t for t in every_text(plan) if t not in text]
    assert not missing


def test_word_names_every_item_and_never_a_key(plan: dict[str, Any], example_word: Any) -> None:
    document = example_word
    text = word_text(document)
    for entity in ENTITIES:
        for item in items(plan, entity):
            assert one_line(title_of(entity, item)) in text
    assert KEY.findall(text) == []
    owners = [row.cells[2].text for row in table_with_header(document, "Milestone").rows[1:]]
    assert set(owners) <= {p["name"] for p in plan["people"]}


def test_word_headings_are_real_headings(plan: dict[str, Any], example_word: Any) -> None:
    document = example_word
    found = headings(document)
    assert found[1] == PARTS
    assert {"Channels", "Goals", "People", "Practices", "March 2027"} <= set(found[2])
    assert f"{content.GOAL} 1: {plan['goals'][0]['statement']}" in found[2]
    assert found[3][: len(plan["goals"])] == [g["statement"] for g in plan["goals"]]
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    assert title.text == plan["title"]
    # The built-in heading styles carry the outline levels the navigation pane reads.
    for level in (1, 2, 3):
        outline = document.styles[f"Heading {level}"].element.find(f".//{qn('w:outlineLvl')}")
        assert outline is not None and outline.get(qn("w:val")) == str(level - 1)


def test_word_tables_repeat_their_header_row(plan: dict[str, Any], example_word: Any) -> None:
    document = example_word
    people = table_with_header(document, "Name", "Role", "Is a leader of the organization")
    assert [c.text for c in people.rows[1].cells][:4] == ["Dana Whitfield", "Coordinator (part-time, paid)", "Yes", "6"]
    milestones = table_with_header(document, "Milestone", "Due", "Owner", "Done")
    assert len(milestones.rows) == 1 + len(plan["milestones"])
    table_with_header(document, "Person", "Practices", "Listening targets")
    for table in document.tables:
        first = table.rows[0]._tr
        assert first.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        assert all(row._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None for row in table.rows[1:])


def test_word_cover_sign_off_and_properties(plan: dict[str, Any], example_word: Any) -> None:
    document = example_word
    text = word_text(document)
    for fact in (plan["organization"], PERIOD, plan["sponsor"], "5 January 2026"):
        assert fact in text
    sign_off = document.tables[-1]
    assert [c.text for c in sign_off.rows[0].cells] == ["Role", "Name", "Signature", "Date"]
    assert [row.cells[0].text for row in sign_off.rows[1:]] == list(SIGN_OFF_ROLES)
    assert sign_off.rows[1].cells[1].text == plan["sponsor"]
    assert document.core_properties.title == plan["title"]
    assert document.core_properties.author == plan["organization"]
    body = document.element.body
    assert any(" TOC " in (t.text or "") for t in body.iter(qn("w:instrText")))
    assert "Noto Sans" in document.styles.element.xml


def test_word_keeps_hostile_text_as_text() -> None:
    doc = hostile_doc()
    data = render_docx(doc, today=TODAY)
    document = word_document(data)
    text = word_text(document)
    assert document.core_properties.title == HOSTILE_SCRIPT
    for typed in (HOSTILE_SCRIPT, HOSTILE_LINK, HOSTILE_PIPE, HOSTILE_UNICODE, "# not a heading", "Acme Ltd"):
        assert typed in text
    for line in HOSTILE_MISSION.splitlines():
        assert line.strip() in text
    assert "Launch <img src=x onerror=alert(1)>" in text
    assert "\x01" not in text and "\x0b" not in text
    assert not any("# heading" in h for level in headings(document).values() for h in level)


# ---------------------------------------------------------------- the declaration drives both


def _rebind(monkeypatch: pytest.MonkeyPatch, name: str, new: Any) -> None:
    """Replace a declaration's tuple in every module that imported it by name."""
    old = getattr(declaration_module, name)
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("planner") and getattr(module, name, None) is old:
            monkeypatch.setattr(module, name, new)


def _declare(monkeypatch: pytest.MonkeyPatch, entity_name: str, *fields: Any) -> None:
    """Add fields to an entity, as one line in `planner.domain.declaration` would."""
    old = ENTITY_BY_NAME[entity_name]
    new = replace(old, fields=(*old.fields, *fields))
    # One dict serves every module: change it in place.
    monkeypatch.setitem(ENTITY_BY_NAME, entity_name, new)
    monkeypatch.setitem(ENTITY_BY_COLLECTION, old.collection, new)
    _rebind(monkeypatch, "ENTITIES", tuple(new if e is old else e for e in declaration_module.ENTITIES))


def test_a_declared_field_appears_in_both_formats(monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]) -> None:
    _declare(monkeypatch, "segment", text("motto", "Their motto"))
    _declare(monkeypatch, "milestone", text("venue", "Where it happens"))
    plan["segments"][0]["motto"] = "Fix it, don't bin it"
    plan["milestones"][0]["venue"] = "The community centre"

    md = render_markdown(plan, today=TODAY)
    assert "**Their motto:** Fix it, don't bin it" in md
    assert "Where it happens" in md_table(md, "Milestone")[0]
    assert "The community centre" in md_table(md, "Milestone")[1]

    document = word_document(render_docx(plan, today=TODAY))
    assert "Their motto: Fix it, don't bin it" in [p.text for p in document.paragraphs]
    milestones = table_with_header(document, "Milestone")
    assert "Where it happens" in [c.text for c in milestones.rows[0].cells]
    assert "The community centre" in [c.text for c in milestones.rows[1].cells]


def test_a_plan_field_on_no_step_still_appears(monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]) -> None:
    _rebind(monkeypatch, "PLAN_FIELDS", (*declaration_module.PLAN_FIELDS, text("hashtag", "Our hashtag")))
    plan["hashtag"] = "#EastsideFixes"

    md = render_markdown(plan, today=TODAY)
    assert md.index("## Other answers") < md.index(f"## {SIGN_OFF}")
    assert "**Our hashtag:** \\#EastsideFixes" in md

    document = word_document(render_docx(plan, today=TODAY))
    assert headings(document)[1][-3:] == ["Other answers", COACH, SIGN_OFF]
    assert "Our hashtag: #EastsideFixes" in [p.text for p in document.paragraphs]


# ---------------------------------------------------------------- the summary and the coach's report


def test_word_carries_the_summary_and_flags_over_commitment(plan: dict[str, Any], example_word: Any) -> None:
    document = example_word
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    # An objective is a bullet and its practices are bullets under it.
    objective = plan["objectives"][0]
    practice = next(p for p in plan["practices"] if p["objective"] == objective["key"])
    i = next(i for i, p in enumerate(paragraphs) if p[1].startswith(f"{objective['statement']} — Listen and learn."))
    assert paragraphs[i][0] == "List Bullet"
    assert paragraphs[i + 1] == (
        "List Bullet 2",
        f"{practice['description']} — Listen · Amara Osei, Zoë Haddad · 1.5 h a week",
    )
    workload = table_with_header(document, "Person", "Practices", "Listening targets", "Hours a week")
    zoe = next(row for row in workload.rows if row.cells[0].text == "Zoë Haddad")
    assert zoe.cells[-1].text == "3.25 h of 3 h: over by 0.25 h"
    assert zoe.cells[-1].paragraphs[0].runs[0].font.color.rgb is not None  # marked, not only said
    table_with_header(document, "Audience segment", "Priority", "Practices that reach them", "Where we listen")
    assert (
        "List Bullet",
        "8 March 2027, Day 8: The team agrees the voice, the guidelines and the response protocol"
        " — Dana Whitfield · Done",
    ) in paragraphs


def test_every_format_carries_the_coach_report(plan: dict[str, Any], example_markdown: str, example_word: Any) -> None:
    report = coach_report(plan)
    md = example_markdown
    assert md.index(f"## {COACH}") < md.index(f"## {SIGN_OFF}")
    assert f"Score: {report.score} out of 100." in md
    rows = md_table(md, "Check", "Result", "What the coach found", "Next step")
    assert [row[0] for row in rows[1:]] == [f.title for f in report.checks]
    text = word_text(example_word)
    assert all(f.title in text and f.message in text for f in report.checks)


def test_a_coach_report_the_caller_has_is_used(plan: dict[str, Any]) -> None:
    report = coach_report(plan)
    warned = replace(report.checks[1], status=Status.WARN, next_step="Ask <the chair> to listen.")
    report = replace(report, score=72, checks=(report.checks[0], warned, *report.checks[2:]))
    md = render_markdown(plan, coach=report, today=TODAY)
    assert "Score: 72 out of 100." in md
    row = md_table(md, "Check", "Result")[2]
    assert row[1:] == [
        "Warn",
        escape(warned.message, line_start=False),
        "Ask &lt;the chair&gt; to listen. (Where to fix it: 5. Listening)",
    ]

    document = word_document(render_docx(plan, coach=report, today=TODAY))
    assert headings(document)[1][-2:] == [COACH, SIGN_OFF]
    coach = table_with_header(document, "Check", "Result")
    assert [c.text for c in coach.rows[2].cells][-1] == "Ask <the chair> to listen. (Where to fix it: 5. Listening)"


def test_every_kind_of_field_is_exercised(plan: dict[str, Any]) -> None:
    """The example plan fills a field of every kind, so the tests above cover each way a value reads."""
    kinds = {f.kind for e in ENTITIES for f in e.fields if any(i.get(f.name) for i in items(plan, e))}
    kinds |= {f.kind for f in PLAN_FIELDS if plan.get(f.name)}
    assert kinds == set(Kind)
