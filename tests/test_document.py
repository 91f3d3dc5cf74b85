"""The plan document: every answer, grouped by step, as people wrote it, on screen and in the PDF.

References read as names, choices as their labels, dates in words; the document follows the
domain declaration, so a field added there appears here without touching the templates.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from pypdf import PdfReader
from werkzeug.http import parse_options_header

from planner.documents import content
from planner.documents.content import build, tabular
from planner.documents.render import font_config, render_html, render_pdf, slug
from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, STEP_OF_ENTITY, STEP_OF_PLAN_FIELD, Field, Kind
from planner.interchange.example import example_document
from planner.plans import store, view

PRINTED = date(2027, 2, 20)


def _value(field: Field, where: str, n: int, keys: dict[str, list[str]]) -> Any:
    """A value for `field` that names where it came from, so a test can look for it."""
    match field.kind:
        case Kind.TEXT:
            return f"{where} {field.name}"
        case Kind.LONGTEXT:
            return f"{where} {field.name} first paragraph.\n\n{where} {field.name} second paragraph."
        case Kind.LIST:
            return [f"{where} {field.name} one", f"{where} {field.name} two"]
        case Kind.ENUM:
            return field.choices[n % len(field.choices)].value
        case Kind.ENUM_LIST:
            return [c.value for c in field.choices[:2]]
        case Kind.REF:
            return keys[field.target][0]
        case Kind.REF_LIST:
            return list(keys[field.target])
        case Kind.BOOL:
            return True
        case Kind.NUMBER:
            return n + 1.5
        case Kind.DATE:
            return f"2027-0{n + 3}-1{n}"
    raise AssertionError(field.kind)


def filled_doc(items_per_kind: int = 2) -> dict[str, Any]:
    """A plan document with every declared field of the plan and of every entity filled in."""
    keys = {e.name: [f"{e.key_prefix}{n + 1}" for n in range(items_per_kind)] for e in ENTITIES}
    doc: dict[str, Any] = {f.name: _value(f, "Plan", 0, keys) for f in PLAN_FIELDS}
    doc["period_start"], doc["period_end"] = "2027-03-01", "2028-02-29"
    for entity in ENTITIES:
        doc[entity.collection] = [
            {"key": key} | {f.name: _value(f, f"{entity.label} {n + 1}", n, keys) for f in entity.fields}
            for n, key in enumerate(keys[entity.name])
        ]
    return doc


def chunk(html: str, anchor: str) -> str:
    """The part of the page from the element with id `anchor` to the next part, step or other chapter."""
    start = html.index(f'id="{anchor}"')
    ends = [i for marker in ('<section class="part"', '<section class="chapter') if (i := html.find(marker, start)) > 0]
    return html[start : min(ends, default=len(html))]


def expected_texts(field: Field, value: Any, known: dict[str, dict[str, str]]) -> list[str]:
    """What a reader should find on the page for one answer (escaped as HTML)."""
    shown = view.display(field, value, known)
    if not shown:
        return []
    texts = shown if isinstance(shown, list) else [shown]
    # Long text keeps its paragraphs and lines; look for each line.
    return [str(escape(line.strip())) for text in texts for line in str(text).splitlines() if line.strip()]


def assert_every_answer_shown(doc: dict[str, Any], html: str) -> None:
    known = view.names(doc)
    for f in PLAN_FIELDS:
        section = chunk(html, f"step-{STEP_OF_PLAN_FIELD[f.name].slug}")
        for text in expected_texts(f, doc.get(f.name), known):
            assert text in section, f"plan.{f.name}: {text!r} missing from its step"
    for entity in ENTITIES:
        part = chunk(html, f"list-{entity.name}")
        for item in view.items(doc, entity):
            for f in entity.fields:
                for text in expected_texts(f, item.get(f.name), known):
                    assert text in part, f"{entity.collection}[{item['key']}].{f.name}: {text!r} missing"


@pytest.fixture
def document_html(ctx: Flask) -> Any:
    def render(doc: dict[str, Any], **kwargs: Any) -> str:
        with ctx.test_request_context():
            return render_html(doc, **kwargs)

    return render


# ------------------------------------------------------------ what the document says


def test_every_declared_field_of_a_filled_plan_appears_in_its_step(document_html: Any) -> None:
    doc = filled_doc()
    assert_every_answer_shown(doc, document_html(doc))


def test_every_answer_of_the_example_plan_appears_on_the_page(client: FlaskClient, example_plan: Any) -> None:
    response = client.get(f"/plans/{example_plan.id}/document")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_every_answer_shown(store.load_doc(example_plan), response.get_data(as_text=True))


def test_steps_come_in_order_and_the_review_step_is_not_a_section(document_html: Any) -> None:
    html = document_html(filled_doc())
    positions = [html.index(f'id="step-{step.slug}"') for step in content.DOCUMENT_STEPS]
    assert positions == sorted(positions)
    assert [s.number for s in content.DOCUMENT_STEPS] == list(range(1, 9))
    assert 'id="step-review"' not in html


def test_references_read_as_names_not_keys(document_html: Any) -> None:
    doc = filled_doc()
    html = document_html(doc)
    practices = chunk(html, "list-practice")
    assert "Person 1 name" in practices and "Person 2 name" in practices  # owners
    assert "Social objective 1 statement" in practices  # the objective, by its statement
    assert "Audience segment 2 name" in practices
    for entity in ENTITIES:
        for item in view.items(doc, entity):
            assert f">{item['key']}<" not in html
            assert f"• {item['key']}" not in html


def test_choices_read_as_labels(document_html: Any) -> None:
    doc = filled_doc()
    doc["practices"][0]["mode"] = "enable"
    doc["objectives"][0]["kind"] = "listen_and_learn"
    doc["staff_access"] = "blocked"
    html = document_html(doc)
    assert "Listen and learn" in chunk(html, "list-objective")
    assert "Enable" in chunk(html, "list-practice")
    assert "Blocked" in chunk(html, "step-starting-point")
    for entity in ENTITIES:
        for f in entity.fields:
            for choice in f.choices:
                if "_" in choice.value:
                    assert choice.value not in html


def test_dates_read_in_words_on_the_cover_and_in_the_sections(document_html: Any) -> None:
    doc = filled_doc()
    html = document_html(doc)
    assert "1 March 2027 \N{EN DASH} 29 February 2028" in chunk(html, "cover")
    assert "2027-03-01" not in html
    assert "10 March 2027" in chunk(html, "list-milestone")


def test_lists_are_lists(document_html: Any) -> None:
    html = document_html(filled_doc())
    segments = chunk(html, "list-segment")
    assert "<li>Audience segment 1 venues one</li><li>Audience segment 1 venues two</li>" in segments
    assert "<li>Creators</li><li>Conversationalists</li>" in segments


def test_long_text_keeps_its_paragraphs(document_html: Any) -> None:
    doc = filled_doc()
    doc["response_protocol"] = "Answer within a day.\n\nCall, do not argue.\nThank the writer."
    html = document_html(doc)
    assert "<p>Answer within a day.</p><p>Call, do not argue.<br>Thank the writer.</p>" in html


def test_short_items_are_tables_and_long_ones_are_cards() -> None:
    assert tabular(ENTITY_BY_NAME["person"])
    assert tabular(ENTITY_BY_NAME["milestone"])
    assert not tabular(ENTITY_BY_NAME["practice"])
    assert not tabular(ENTITY_BY_NAME["segment"])


def test_a_table_leaves_out_columns_nobody_filled_and_totals_hours(document_html: Any) -> None:
    doc = filled_doc()
    for person in doc["people"]:
        person["training_needs"] = None
    doc["people"][0]["hours_per_week"] = 2
    doc["people"][1]["hours_per_week"] = 1.5
    people = chunk(document_html(doc), "list-person")
    assert "Training needs" not in people
    assert "<thead>" in people
    assert re.search(r"Total</td>.*3\.5</td>", people, re.S)


def test_on_a_phone_an_empty_cell_shows_no_label_with_nothing_after_it(document_html: Any) -> None:
    # The printable page shows a table row as "Column: value" lines on a phone (print.css, from
    # data-label): a cell left empty in one row must not print "Owner:" followed by nothing.
    doc = filled_doc()
    doc["people"][0]["role"] = None
    people = chunk(document_html(doc), "list-person")
    body = people.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<td([^>]*)>(.*?)</td>", body, re.S)
    assert any(not text.strip() for _, text in cells), "the test needs an empty cell"
    for attributes, text in cells:
        assert ("data-label" in attributes) == bool(text.strip()), (attributes, text)


def test_an_empty_plan_says_not_yet_written_quietly(
    client: FlaskClient, ctx: Flask, owner: Any, add_member: Any
) -> None:
    plan = store.create_plan("Just a title")
    add_member(plan, owner)
    html = client.get(f"/plans/{plan.id}/document").get_data(as_text=True)
    # One quiet line per empty summary (goals to practices, audiences, who does what, timeline)
    # and per empty step, plus the required answers of step 1 that are missing.
    assert html.count("Not yet written") == 4 + 7 + 3
    assert not re.search(">\\s*[\N{EM DASH}\N{EN DASH}-]\\s*<", html)  # no dash stands in for a missing answer
    assert "None" not in html
    assert "Just a title" in html


def test_empty_optional_answers_are_left_out(document_html: Any) -> None:
    doc = filled_doc()
    doc["vision"] = None
    doc["segments"][0]["barriers"] = None
    html = document_html(doc)
    assert "Vision" not in chunk(html, "step-starting-point")
    assert "What stops them taking part" in chunk(html, "list-segment")  # the second segment has one
    first_segment = chunk(html, "list-segment").split('<article class="item">')[1]
    assert "What stops them taking part" not in first_segment


def test_a_field_added_to_the_declaration_appears_without_touching_the_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    concern = ENTITY_BY_NAME["concern"]
    extended = dataclasses.replace(concern, fields=(*concern.fields, Field("raised_by", Kind.TEXT, "Raised by")))
    new_plan_field = Field("budget_note", Kind.LONGTEXT, "Budget note")
    monkeypatch.setitem(ENTITY_BY_NAME, "concern", extended)
    monkeypatch.setattr(content.steps, "PLAN_FIELDS", (*PLAN_FIELDS, new_plan_field))
    doc = filled_doc()
    doc["concerns"][0]["raised_by"] = "The treasurer"
    doc["budget_note"] = "No money, only time."

    document = build(doc)
    answers = [a for s in document.sections for p in s.parts for c in p.cards for a in c.answers]
    assert any(a.label == "Raised by" and a.value == "The treasurer" for a in answers)
    # A plan field that no step claims still gets printed, in a last section.
    last = document.sections[-1]
    assert last.title == "Other answers"
    assert [(a.label, a.value) for a in last.answers] == [("Budget note", "No money, only time.")]


def test_every_declared_field_and_entity_belongs_to_a_printed_step() -> None:
    assert {f.name for f in PLAN_FIELDS} <= set(STEP_OF_PLAN_FIELD)
    assert {e.name for e in ENTITIES} <= {name for s in content.DOCUMENT_STEPS for name in s.entities}
    assert build(filled_doc()).sections[-1].title != "Other answers"


# ------------------------------------------------------------ the page


def test_the_page_is_standalone_printable_and_links_back(client: FlaskClient, example_plan: Any) -> None:
    html = client.get(f"/plans/{example_plan.id}/document").get_data(as_text=True)
    assert '<meta charset="utf-8">' in html
    assert '<link rel="stylesheet" href="/static/print.css">' in html
    assert "app.css" not in html  # the document does not lean on the app's screen stylesheet
    assert f'href="/plans/{example_plan.id}/steps/review"' in html
    assert f'href="/plans/{example_plan.id}/document.pdf"' in html
    assert '<button type="button" data-print hidden>Print</button>' in html
    # Scripts only from static files: a Content-Security-Policy without inline scripts is coming.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/document.js" defer>']
    assert " on" + "click=" not in html


def test_the_static_files_the_page_uses_are_served(client: FlaskClient) -> None:
    for path, mimetype in (("/static/print.css", "text/css"), ("/static/document.js", "text/javascript")):
        response = client.get(path)
        assert (response.status_code, response.mimetype) == (200, mimetype)
        response.close()  # static files are streamed: close them, or the open file warns


def test_the_document_stylesheet_stays_small(app: Flask) -> None:
    # WeasyPrint's cost grows with rules times elements: no framework near the PDF path.
    text = Path(app.static_folder or "", "print.css").read_text(encoding="utf-8")
    assert text.count("{") < 120
    assert len(text) < 9000


@pytest.mark.parametrize("path", ["/plans/999/document", "/plans/999/document.pdf"])
def test_an_unknown_plan_is_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


# ------------------------------------------------------------ the PDF


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def squeezed(text: str) -> str:
    """Text without whitespace: PDF extraction breaks lines wherever the layout did."""
    return re.sub(r"\s+", "", text)


@pytest.mark.pdf
def test_the_pdf_is_a_download_named_after_the_plan(
    client: FlaskClient, ctx: Flask, owner: Any, add_member: Any
) -> None:
    plan = store.create_plan("Café plan: 2027")
    add_member(plan, owner)
    response = client.get(f"/plans/{plan.id}/document.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert options == {"filename": "cafe-plan-2027.pdf"}
    assert "private" in response.headers["Cache-Control"]
    assert response.data.startswith(b"%PDF-")


@functools.cache
def example_pdf_bytes() -> bytes:
    """The example plan's PDF, rendered once for every test module that reads it (needs an app context)."""
    return render_pdf(example_document()["plan"], today=PRINTED)


@pytest.fixture
def example_pdf(app: Flask) -> tuple[dict[str, Any], bytes]:
    """The example plan's document and its PDF."""
    with app.app_context():
        return example_document()["plan"], example_pdf_bytes()


@pytest.mark.pdf
def test_the_pdf_holds_what_people_typed(example_pdf: tuple[dict[str, Any], bytes]) -> None:
    doc, pdf = example_pdf
    reader = PdfReader(io.BytesIO(pdf))
    text = squeezed(pdf_text(pdf))
    for entity in ENTITIES:
        for item in view.items(doc, entity):
            assert squeezed(view.title_of(entity, item)) in text, f"{entity.name} {item['key']}"
    assert squeezed(doc["response_protocol"]) in text
    assert squeezed(doc["sponsor"]) in text
    assert reader.metadata is not None and reader.metadata.title == doc["title"]


@pytest.mark.pdf
def test_pdf_pages_have_a_running_header_and_numbers_except_the_cover(
    example_pdf: tuple[dict[str, Any], bytes],
) -> None:
    doc, pdf = example_pdf
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert "Page 1 of" not in pages[0].extract_text()
    for number, page in enumerate(pages[1:], start=2):
        text = page.extract_text()
        assert f"Page {number} of {len(pages)}" in text
        assert doc["title"] in text


@pytest.mark.pdf
def test_the_pdf_cover_names_the_plan_and_the_sign_off_ends_it(
    example_pdf: tuple[dict[str, Any], bytes],
) -> None:
    doc, pdf = example_pdf
    pages = PdfReader(io.BytesIO(pdf)).pages
    cover = squeezed(pages[0].extract_text())
    for words in (doc["organization"], doc["title"], doc["sponsor"], "1 March 2027", "Status: Ready for sign-off"):
        assert squeezed(words) in cover
    assert "Signature" not in cover
    last = pages[-1].extract_text()
    for words in ("Sign-off", content.SIGN_OFF_TEXT, "Signature", "Approved by", "Prepared by", doc["sponsor"]):
        assert words in last


def test_one_font_configuration_serves_every_render() -> None:
    assert font_config() is font_config()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Café plan 2026", "cafe-plan-2026"),
        ("  Eastside: talking / listening!  ", "eastside-talking-listening"),
        ("中文计划", "plan"),
        ("x" * 200, "x" * 60),
    ],
)
def test_slug(title: str, expected: str) -> None:
    assert slug(title) == expected


def test_each_list_is_printed_within_its_step(document_html: Any) -> None:
    html = document_html(filled_doc())
    starts = {step.slug: html.index(f'id="step-{step.slug}"') for step in content.DOCUMENT_STEPS}
    ends = dict(zip(starts, [*list(starts.values())[1:], len(html)], strict=True))
    for entity in ENTITIES:
        slug_ = STEP_OF_ENTITY[entity.name].slug
        assert starts[slug_] < html.index(f'id="list-{entity.name}"') < ends[slug_]


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts a PDF embeds, without subset prefixes ("NotoSansCJKSC")."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            name = str(ref.get_object()["/BaseFont"]).lstrip("/")
            found.add(name.split("+")[-1].replace("-", ""))
    return found


WORLD = {
    "organization": "Asociación Niños del Café",
    "sponsor": "Ирина Петрова",
    "mission": "Η αποστολή μας: εργαλεία για όλους.",  # noqa: RUF001 (Greek on purpose)
    "vision": "让每个街区都能借到工具。",
    "voice": "Friendly and warm 🙂 with a wink 🔧",
}


@pytest.mark.pdf
def test_text_in_any_script_prints_with_noto_fonts(ctx: Flask) -> None:
    doc = filled_doc(items_per_kind=1) | WORLD
    doc["people"][0]["name"] = "Zoë Ñúñez"
    pdf = render_pdf(doc)

    fonts = embedded_fonts(pdf)
    assert "NotoSans" in fonts
    assert any(f.startswith("NotoSansCJK") for f in fonts)
    # Emoji do not survive text extraction reliably; their font being embedded shows they were drawn.
    assert "NotoColorEmoji" in fonts
    text = pdf_text(pdf)
    for words in (WORLD["organization"], WORLD["sponsor"], WORLD["mission"], WORLD["vision"], "Zoë Ñúñez"):
        assert words in text


def test_a_standalone_page_carries_its_stylesheet(ctx: Flask) -> None:
    # What `flask plan export --format html` writes: a file that reads well without the app.
    html = render_html(filled_doc(), standalone=True, plan_id=1)
    assert "<style>" in html and "@page" in html and '"Noto Sans"' in html
    assert "<link" not in html and "<script" not in html
    assert "/steps/review" not in html


# ------------------------------------------------------------ the summary a board reads first


def test_the_cover_says_how_far_the_plan_has_come() -> None:
    plan = example_document()["plan"]
    cover = build(plan).cover
    assert (cover.status, cover.still_open) == (content.READY, [])

    plan["milestones"] = []
    plan["response_protocol"] = None
    cover = build(plan).cover
    # Steps 6 and 8 are open, and so is the review, which waits for all the others.
    assert cover.status == "Draft \N{EM DASH} 6 of 9 steps complete"
    assert cover.still_open == ["6. Engagement", "8. First 90 days"]
    assert ("Still to finish", "6. Engagement, 8. First 90 days") in cover.facts

    assert build({"title": "New"}).cover.status == "Draft \N{EM DASH} 0 of 9 steps complete"


def test_the_contents_list_every_part_in_the_order_of_the_page(document_html: Any) -> None:
    doc = filled_doc()
    document = build(doc)
    html = document_html(doc)
    contents = chunk(html, "contents-heading")
    positions = [html.index(f'id="{anchor}"') for anchor, _ in document.contents]
    assert positions == sorted(positions)
    for anchor, heading in document.contents:
        assert f'<a href="#{anchor}">{escape(heading)}</a>' in contents
    assert [heading for _, heading in document.contents][:4] == [
        content.CHAIN,
        content.REACH,
        content.WHO_DOES_WHAT,
        content.TIMELINE,
    ]
    assert [heading for _, heading in document.contents][-2:] == [content.COACH, content.SIGN_OFF]


def _untied(plan: dict[str, Any]) -> dict[str, Any]:
    """The example plan with a practice that serves no objective and an objective no practice serves."""
    plan["practices"].append(
        {"key": "pr99", "description": "Post a photo of the week's oddest tool", "owners": ["p3"], "mode": "broadcast"}
    )
    plan["objectives"].append({"key": "o99", "goal": "g1", "statement": "Be known for odd tools"})
    return plan


def test_the_chain_nests_practices_under_objectives_under_goals(document_html: Any) -> None:
    plan = _untied(example_document()["plan"])
    known = view.names(plan)
    chain = content.chain(plan, known)
    assert [g.title for g in chain.goals] == [g["statement"] for g in plan["goals"]]
    for goal, line in zip(plan["goals"], chain.goals, strict=True):
        objectives = [o for o in plan["objectives"] if o["goal"] == goal["key"]]
        assert [o.title for o in line.objectives] == [o["statement"] for o in objectives]
        for objective, o_line in zip(objectives, line.objectives, strict=True):
            practices = [p["description"] for p in plan["practices"] if p.get("objective") == objective["key"]]
            assert [p.title for p in o_line.practices] == practices
    assert [p.title for p in chain.untied] == ["Post a photo of the week's oddest tool"]

    html = document_html(plan)
    goals = chunk(html, "chain").split('<li class="goal')[1:]
    for practice in plan["practices"][:-1]:
        objective = next(o for o in plan["objectives"] if o["key"] == practice["objective"])
        goal = next(g for g in plan["goals"] if g["key"] == objective["goal"])
        (in_goal,) = [c for c in goals if str(escape(goal["statement"])) in c]
        (in_objective,) = [
            c for c in in_goal.split('<li class="objective">') if str(escape(objective["statement"])) in c
        ]
        assert str(escape(practice["description"])) in in_objective
    # Each practice shows its mode, who does it and its hours.
    assert "Listen \N{MIDDLE DOT} Amara Osei, Zoë Haddad \N{MIDDLE DOT} 1.5 h a week" in html
    assert str(escape(content.NO_PRACTICE_YET)) in goals[0]
    assert content.UNTIED in goals[-1] and "oddest tool" in goals[-1]


def test_audiences_list_the_practices_that_reach_them_and_where_we_listen() -> None:
    plan = _untied(example_document()["plan"])
    table = content.reach(plan, view.names(plan))
    assert table is not None
    rows = {row[0].value: [cell.value for cell in row[1:]] for row in table.rows}
    priority, practices, listening = rows["New parents on the east side"]
    assert priority == "Primary"
    # Each practice by a shortened name and its mode, so that the two share a line.
    assert "Read the parents' group and the tenants'… (Listen)" in practices
    assert len(practices) == sum(1 for p in plan["practices"] if "s1" in p.get("segments", []))
    assert listening == [
        "Eastside Parents Facebook group",
        "Nextdoor: Eastside",
        "Feedback cards and comments after each repair café",
    ]
    # Primary audiences first; a practice aimed at nobody in particular gets a row of its own.
    priorities = [row[1].value for row in table.rows[:-1]]
    assert priorities == sorted(priorities, key=lambda p: p != "Primary")
    assert rows[content.NO_AUDIENCE][1] == [
        'Run a 30-minute "replying online"… (Enable)',
        "Post a photo of the week's oddest tool (Broadcast)",
    ]
    assert rows["Partner organisations: the food bank, the community centre and the branch library"][2] == [
        content.NONE_YET
    ]


def test_who_does_what_shares_practice_hours_and_flags_over_commitment() -> None:
    doc = {
        "title": "Hours",
        "people": [
            {"key": "p1", "name": "Ana", "hours_per_week": 4},
            {"key": "p2", "name": "Ben", "hours_per_week": 1},
            {"key": "p3", "name": "Cy"},
        ],
        "practices": [
            {"key": "pr1", "description": "Answer questions", "owners": ["p1", "p2"], "hours_per_week": 4},
            {"key": "pr2", "description": "Share stories", "owners": ["p1"], "hours_per_week": 1},
            {"key": "pr3", "description": "Host a thread", "owners": [], "hours_per_week": 2},
        ],
        "listening_targets": [{"key": "l1", "venue": "Parents' group", "listener": "p2"}],
    }
    table = content.who_does_what(doc)
    assert table is not None
    rows = {row[0].value: [cell.value for cell in row[1:]] for row in table.rows}
    assert rows["Ana"] == [["Answer questions", "Share stories"], [], "3 h of 4 h"]
    assert rows["Ben"] == [["Answer questions"], ["Parents' group"], "2 h of 1 h: over by 1 h"]
    assert rows["Cy"] == [[], [], "0 h"]  # no hours of their own: nothing to weigh against
    assert rows[content.NOBODY] == [["Host a thread"], [], "2 h"]
    assert table.marks == ["", "over", "", ""]
    assert table.totals == ["Total", "", "", "7 h of 5 h: over by 2 h"]
    assert content.who_does_what({"title": "Nothing yet"}) is None


def test_hours_that_are_not_a_number_are_unset_in_the_document_as_for_the_coach() -> None:
    # A value that is no number of hours (a plan written by hand, say) is no hours: the coach
    # names the practice as having none, and the document neither prints "0 h" for it nor
    # weighs the person's work against it.
    from planner.coach import coach_report

    doc = {
        "title": "Hours",
        "people": [{"key": "p1", "name": "Ana", "hours_per_week": True}],
        "practices": [{"key": "pr1", "description": "Answer questions", "owners": ["p1"], "hours_per_week": "3"}],
    }
    (line,) = content.chain(doc, view.names(doc)).untied
    assert line.hours == ""
    assert [ref.key for ref in coach_report(doc).balance.without_hours] == ["pr1"]
    table = content.who_does_what(doc)
    assert table is not None
    assert [row[-1].value for row in table.rows] == ["0 h"]
    assert table.totals == ["Total", "", "", "0 h"]


def test_the_over_committed_are_marked_on_the_page(client: FlaskClient, example_plan: Any) -> None:
    html = client.get(f"/plans/{example_plan.id}/document").get_data(as_text=True)
    over = re.findall(
        r'<tr class="over[^"]*">\s*<th scope="row"[^>]*>\s*([^<]+?)\s*</th>', chunk(html, "who-does-what")
    )
    assert over == ["Zoë Haddad", "Tom Brennan"]
    assert "1.75 h of 1 h: over by 0.75 h" in html


def test_the_timeline_runs_in_date_order_by_month() -> None:
    plan = example_document()["plan"]
    plan["milestones"].reverse()
    plan["milestones"].append({"key": "ms99", "title": "Someday", "owner": "p1"})
    timeline = content.timeline(plan, view.names(plan))
    assert [m.label for m in timeline.months] == ["March 2027", "April 2027", "May 2027", content.UNDATED]
    entries = [e for m in timeline.months for e in m.entries]
    dated = sorted((m for m in plan["milestones"] if m.get("due")), key=lambda m: m["due"])
    assert [e.title for e in entries] == [m["title"] for m in dated] + ["Someday"]
    first = entries[0]
    assert (first.when, first.day, first.owner, first.done) == ("8 March 2027", "Day 8", "Dana Whitfield", True)
    assert entries[-1].facts == ["Dana Whitfield"]
    assert "Day 1 is 1 March 2027" in timeline.lead


def test_the_coach_report_has_the_picture_the_score_and_every_finding(client: FlaskClient, example_plan: Any) -> None:
    from planner.coach import coach_report, picture_svg

    doc = store.load_doc(example_plan)
    report = coach_report(doc)
    html = client.get(f"/plans/{example_plan.id}/document").get_data(as_text=True)
    coach = chunk(html, "coach")
    assert picture_svg(report) in coach  # inline, as the coach drew it
    assert html.count("<svg") == 1
    assert f"Score: {report.score} out of 100." in coach
    for finding in report.checks:
        for words in (finding.title, finding.message, finding.next_step):
            assert str(escape(words)) in coach


def test_the_page_shows_every_summary_in_the_plans_own_words(client: FlaskClient, example_plan: Any) -> None:
    doc = store.load_doc(example_plan)
    html = client.get(f"/plans/{example_plan.id}/document").get_data(as_text=True)
    names = {
        "chain": [g["statement"] for g in doc["goals"]] + [o["statement"] for o in doc["objectives"]],
        "reach": [s["name"] for s in doc["segments"]],
        "who-does-what": [p["name"] for p in doc["people"]],
        "timeline": [m["title"] for m in doc["milestones"]],
        "sign-off": [doc["sponsor"]],
    }
    for anchor, expected in names.items():
        part = chunk(html, anchor)
        for name in expected:
            assert str(escape(name)) in part, f"{name!r} missing from {anchor}"
