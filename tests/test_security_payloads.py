"""Hostile text in every text field stays text: on every page, in the JSON, the PDF, Word and Markdown.

One plan is filled with script, HTML, CSS, template and Markdown payloads: every text field of
the plan and of every entity (read from the declaration, so a new field is filled too), plus the
plan's title, a member's display name, a comment, and a workshop's guest name, ideas and group
label. Then every GET route in the app's URL map is requested (so a new page is checked too) and
each answer is read as a browser would:

- HTML: no element, attribute or comment the payloads tried to make (no inline `<script>`, no
  `on...=` attribute, no `id="pwn-..."` element, no `<style>`, no `javascript:` link, no request
  to the payloads' address), and the payloads are shown, escaped, as text; `{{7*7}}` stays as typed;
- JSON: the payloads come back as the exact strings typed, as `application/json`;
- the PDF shows them as text and fetches nothing but its stylesheet; the Word file holds them as
  text with no field codes or hyperlinks; a CommonMark renderer makes no HTML, link or image of
  the Markdown.

Every answer must also forbid framing (clickjacking). The limits on what one may send are here
too: an oversized import, and text over a field's declared length.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from typing import Any

import docx
import pytest
from flask import Flask, url_for
from markdown_it import MarkdownIt
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select

from planner.accounts import membership, users
from planner.accounts.models import Membership, User
from planner.discussion.models import Comment
from planner.documents.fetcher import ASSET_BASE
from planner.domain import ENTITIES, PLAN_FIELDS, STEP_OF_PLAN_FIELD, STEPS, Field, Kind
from planner.extensions import db
from planner.interchange import import_document
from planner.models import Plan
from planner.plans import store
from planner.plans.models import Change
from planner.workshop import access
from planner.workshop import operations as ops
from tests.conftest import Web
from tests.test_document import filled_doc, pdf_text, squeezed

# ---------------------------------------------------------------- the payloads

# Each is at most 200 characters, the shortest text limit, so any text field can hold any of them.
# Each element they try to make has an id starting "pwn-", and each script sets window.__pwned.
# Right-to-left override and isolate: shown reversed, as typed, and never anything more.
BIDI_PAYLOAD = "\u202eevil.exe\u202c and \u2067isolated\u2069"
SQL_PAYLOAD = "Robert'); DROP TABLE plans; -- 100% _a_ \\' OR '1'='1"
PAYLOADS = (
    '<script>window.__pwned="script"</script>',
    "<img src=x id=pwn-img onerror=\"window.__pwned='img'\">",
    '"><svg id=pwn-svg onload="window.__pwned=\'svg\'"></svg>',
    "'><b id=pwn-b onmouseover=\"window.__pwned='b'\">bold</b>",
    "</style><style id=pwn-style>body{display:none}</style>",
    '</textarea></title><script>window.__pwned="textarea"</script>',
    "<a id=pwn-a href=\"javascript:window.__pwned='a'\">click me</a>",
    "[a link](javascript:window.__pwned=1) ![an image](http://127.0.0.1:9/pwn.png) <http://127.0.0.1:9/>",
    "{{7*7}} {% raw %}{{ config }}{% endraw %} ${7*7} #{7*7} { DDEAUTO c:\\cmd.exe } { HYPERLINK http://127.0.0.1:9/ }",
    "<!-- an unclosed comment",
    "background: url(http://127.0.0.1:9/pwn.png); @import 'http://127.0.0.1:9/x.css';",
    BIDI_PAYLOAD,
    SQL_PAYLOAD,
    "Donaudampfschifffahrtsgesellschaftskapitänswitwe" * 3,
)
# Shorter ones for the places with a lower limit (workshop names: 60 characters).
NAME = "<img src=x id=pwn-name onerror=\"window.__pwned='n'\">"
MY_NAME = '"><svg id=pwn-me onload="window.__pwned=\'me\'">{{7*7}}'
TITLE = '<script>window.__pwned="title"</script>{{7*7}}"><b id=pwn-title>'
COMMENT = "\n\n".join(PAYLOADS)
IDEA = "<svg id=pwn-idea onload=\"window.__pwned='idea'\"></svg> {{7*7}} [x](javascript:alert(1))"
LABEL = "</style><b id=pwn-label>{{7*7}}</b>"
GUEST = "<script>window.__pwned='guest'</script>"
TEXT_KINDS = (Kind.TEXT, Kind.LONGTEXT, Kind.LIST)
# Bidirectional controls: they are kept in the text, but some extractors drop them.
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# What the payloads ask a browser or renderer to load.
EVIL_ADDRESS = "127.0.0.1:9"

# Routes whose answer is not a page: checked by their own tests below, or nothing to check.
NOT_PAGES = {
    "static": "the app's own files",
    "favicon": "the app's own icon (static/favicon.svg)",
    "workshop.events": "an endless event stream; it sends the same JSON as workshop.current_state",
    "workshop.qr": "an SVG of the join URL, which holds no typed text",
    "workshop.export_csv": "a download; spreadsheet formulas are tested in tests/test_workshop_rules.py",
    "documents.pdf": "test_the_pdf_prints_the_payloads_as_text_and_fetches_nothing",
    "documents.word": "test_the_word_file_holds_the_payloads_as_text",
    "documents.markdown": "test_the_markdown_makes_no_html_link_or_image",
    "workshop.export_markdown": "test_the_markdown_makes_no_html_link_or_image",
}
# Pages that show nothing anyone typed, so only the absence of injected markup is checked.
NO_TYPED_TEXT = {"workshop.join_code", "interchange.import_form", "accounts.reset_request", "accounts.reset_password"}
# The projector's cards come from the state JSON, drawn by its script: tests/browser/test_hostile_content.py.
NO_TYPED_TEXT.add("workshop.projector")


def poisoned(field: Field, turn: int) -> Any:
    """A field's hostile value: the next payload, or the next three as a list or paragraphs.
    (A few per field, not all: every one still lands in many fields, and the PDF stays quick.)"""
    some = [PAYLOADS[(turn + i) % len(PAYLOADS)][: field.max_length] for i in range(3)]
    if field.kind is Kind.LIST:
        return some
    if field.kind is Kind.LONGTEXT:
        return "\n\n".join(some)
    return some[0]


def hostile_plan_doc() -> dict[str, Any]:
    """A filled plan (one item of each kind) with every text field and list entry hostile."""
    doc = filled_doc(items_per_kind=1)
    turn = 0
    for f in PLAN_FIELDS:
        if f.kind in TEXT_KINDS:
            doc[f.name], turn = poisoned(f, turn), turn + 1
    for entity in ENTITIES:
        for item in doc[entity.collection]:
            for f in entity.fields:
                if f.kind in TEXT_KINDS:
                    item[f.name], turn = poisoned(f, turn), turn + 1
    doc["title"] = TITLE
    return doc


def typed_texts() -> set[str]:
    """Every hostile string stored, as one line each (pages show paragraphs line by line)."""
    return {*PAYLOADS, NAME, MY_NAME, TITLE, IDEA, LABEL, GUEST}


# ---------------------------------------------------------------- reading answers


class Injected(HTMLParser):
    """What a page would run or load that the app did not put there itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        values = dict(attrs)
        self._script = tag == "script"
        if tag == "script" and not str(values.get("src") or "").startswith("/static/"):
            self.found.append(f"inline <script> {attrs}")
        if tag == "style":
            self.found.append("<style>")
        if any(name.startswith("on") for name in names):
            self.found.append(f"<{tag}> with an event handler: {attrs}")
        if str(values.get("id") or "").startswith("pwn-"):
            self.found.append(f"<{tag} id={values['id']}>")
        for name in ("href", "src", "action", "formaction", "data", "style"):
            value = "".join(str(values.get(name) or "").split()).lower()
            if value.startswith("javascript:") or EVIL_ADDRESS in value:
                self.found.append(f"<{tag} {name}={values[name]!r}>")

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.found.append(f"script body: {data.strip()[:40]}")
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        if "unclosed" in data:
            self.found.append("a typed <!-- became a comment")


def injected(html: str) -> Injected:
    parser = Injected()
    parser.feed(html)
    parser.close()
    if "<!-- an unclosed" in html:  # a comment never closed is never reported as one: it eats the page
        parser.found.append("a typed <!-- opened a comment")
    return parser


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_cannot_be_framed(response: Any, where: str) -> None:
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), where


# ---------------------------------------------------------------- the hostile world


@pytest.fixture
def world(app: Flask, web: Web, owner: Any, add_user: Any) -> dict[str, Any]:
    """A hostile plan with a hostile member, comment, change, invitation and workshop, and
    a value for every argument a GET route may take.

    Built in an app context of its own, closed before any request: a request made while a test
    holds one would share its database session (and, on SQLite, its stale snapshot)."""
    mallory = add_user("mallory@example.org", NAME)
    with app.app_context():
        plan = store.create_from_doc(hostile_plan_doc())
        db.session.add(Membership(plan_id=plan.id, user_id=owner.id, role="facilitator"))
        db.session.add(Membership(plan_id=plan.id, user_id=mallory.id, role="editor"))
        db.session.get(User, owner.id).name = MY_NAME  # the one logged in: their name is on every page
        db.session.commit()
        doc = store.load_doc(plan)
        goal = ENTITIES[0]
        item = doc[goal.collection][0]
        edited = {goal.title_field: f"{item[goal.title_field]} (edited)"}  # the history shows before and after
        store.update_item(plan, goal, item["key"], edited, actor=mallory)
        db.session.add(Comment(plan_id=plan.id, user_id=mallory.id, step="goals", body=COMMENT))
        db.session.commit()
        _invitation, invitation_token = membership.create_invitation(plan, "viewer", 7, owner)

        ws = ops.start_session(plan, owner, "goals")
        ops.configure_step(ws, "goals", anonymous=False, private=False)
        guest = ops.join(ws, GUEST)
        idea = ops.add_idea(ws, guest, "goals", IDEA)
        ops.add_idea(ws, None, "goals", IDEA, written_for=NAME)
        group = ops.add_group(ws, "goals", LABEL)
        ops.set_group(ws, idea.number, group.id)
        found = {
            "plan_id": plan.id,
            "doc": store.load_doc(plan),
            "code": ws.code,
            "projector_key": access.projector_key(ws),
            "values": {
                "plan_id": plan.id,
                "change_id": db.session.scalar(select(func.max(Change.id)).where(Change.plan_id == plan.id)),
                "code": ws.code,
                "token": {
                    "members.invitation": invitation_token,
                    "accounts.reset_password": users.reset_token(db.session.get(User, mallory.id)),
                },
            },
        }
        db.session.remove()
    assert web.post(f"/join/{found['code']}").status_code in (302, 303)  # the facilitator joins the room too
    return found


def get_urls(app: Flask, world: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET route, with every step and every kind of item."""
    values = world["values"]
    doc = world["doc"]
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
                continue
            variants: list[dict[str, Any]] = [{}]
            if "slug" in rule.arguments:
                variants = [{"slug": step.slug} for step in STEPS]
            if "entity_name" in rule.arguments:
                variants = [{"entity_name": e.name, "key": doc[e.collection][0]["key"]} for e in ENTITIES]
            for variant in variants:
                args = dict(variant)
                for name in set(rule.arguments) - args.keys():
                    value = values.get(name)
                    assert value is not None, f"{rule.rule}: give world() a value for {name!r}"
                    args[name] = value[rule.endpoint] if isinstance(value, dict) else value
                found.append((rule.endpoint, url_for(rule.endpoint, **args)))
    extra = {
        "wizard.edit_item": [u + "?fragment=1" for e, u in found if e == "wizard.edit_item"],
        # An add form offers the items its references may point to (a practice: most kinds).
        "wizard.new_item": [u + "&fragment=1" for e, u in found if e == "wizard.new_item" and "/practice/" in u],
        "workshop.projector": [f"/workshop/{world['code']}/projector?key={world['projector_key']}"],
        "workshop.current_state": [
            f"/workshop/{world['code']}/state?as=facilitator",
            f"/workshop/{world['code']}/state?as=projector&key={world['projector_key']}",
        ],
    }
    return found + [(endpoint, url) for endpoint, urls in extra.items() for url in urls]


# ---------------------------------------------------------------- every page and the JSON


def test_every_page_shows_the_payloads_as_text_and_runs_nothing(app: Flask, web: Web, world: dict[str, Any]) -> None:
    urls = get_urls(app, world)
    assert {e for e, _ in urls} >= {"wizard.step", "wizard.edit_item", "wizard.delete_item", "history.change"}
    problems: dict[str, list[str]] = {}
    shown: list[str] = []
    for endpoint, url in urls:
        response = web.get(url)
        assert_cannot_be_framed(response, url)
        assert response.status_code in (200, 302, 303), f"{url}: {response.status_code}"
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            continue
        if response.mimetype == "application/json":
            typed = strings_in(json.loads(body))
            assert typed, url
            shown.extend(typed)
            continue
        assert response.mimetype == "text/html", f"{url}: {response.mimetype}"
        page = injected(body)
        if endpoint not in NO_TYPED_TEXT and not any(str(escape(text)) in body for text in typed_texts()):
            page.found.append("shows none of the typed text, escaped")
        if page.found:
            problems[url] = page.found
        shown.append("".join(page.text))

    assert not problems
    everything = "\n".join(shown)
    # Every payload reached some page, as the very text typed: escaping changed nothing a reader sees.
    for text in typed_texts():
        assert text in everything, text
    assert "{{7*7}}" in everything


def test_the_workshop_state_gives_the_typed_text_back_exactly(web: Web, world: dict[str, Any]) -> None:
    code, key = world["code"], world["projector_key"]
    for query in ("", "?as=facilitator", f"?as=projector&key={key}"):
        response = web.get(f"/workshop/{code}/state{query}")
        assert response.mimetype == "application/json"
        typed = strings_in(response.get_json())
        assert IDEA in typed and LABEL in typed, query
        assert GUEST in typed, query  # the step shows authors
        assert world["doc"]["title"] in typed, query


def test_the_json_export_gives_every_payload_back_exactly(web: Web, world: dict[str, Any]) -> None:
    response = web.get(f"/plans/{world['plan_id']}/export.json")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]  # a download, never shown as a page
    typed = strings_in(json.loads(response.get_data(as_text=True)))
    assert TITLE in typed
    # Stored and read back exactly, quotes and all: the ORM binds values, never splices them into SQL.
    for payload in PAYLOADS:
        assert any(payload in text for text in typed), payload


# ---------------------------------------------------------------- PDF, Word, Markdown


def plan_lines() -> set[str]:
    """The payloads the document prints (the plan's own fields; names and comments are not in it)."""
    return {*PAYLOADS, TITLE}


@pytest.mark.pdf
def test_the_pdf_prints_the_payloads_as_text_and_fetches_nothing(
    web: Web, world: dict[str, Any], fetched: list[str]
) -> None:
    response = web.get(f"/plans/{world['plan_id']}/document.pdf")
    assert response.status_code == 200
    assert fetched == [ASSET_BASE + "print.css"]
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.attachments == {}
    assert all(not page.images for page in reader.pages)
    text = BIDI.sub("", squeezed(pdf_text(response.data)))
    for typed in plan_lines() - {BIDI_PAYLOAD}:
        assert squeezed(typed) in text, typed
    # The override is honoured as the typed text asks (the PDF holds the letters in the order shown).
    assert "evil.exe" in text or "exe.live" in text
    assert "49" not in text.replace("2049", "")  # {{7*7}} was never evaluated


def test_the_word_file_holds_the_payloads_as_text(web: Web, world: dict[str, Any]) -> None:
    response = web.get(f"/plans/{world['plan_id']}/document.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    everything = "\n".join(texts)
    for typed in plan_lines():
        assert typed in everything, typed
    with zipfile.ZipFile(io.BytesIO(response.data)) as package:
        xml = {name: package.read(name).decode("utf-8") for name in package.namelist() if name.endswith("rels")}
        xml |= {name: package.read(name).decode("utf-8") for name in package.namelist() if name.endswith(".xml")}
    for name, part in xml.items():
        for marker in ("<w:hyperlink", "<w:fldSimple", 'TargetMode="External"', "<script"):
            assert marker not in part, f"{name} holds {marker}"
        # The only fields are the document's own (page numbers, contents); typed braces made none.
        assert {i.split()[0] for i in INSTRUCTION.findall(part)} <= {"PAGE", "NUMPAGES", "TOC"}, name
        assert "DDEAUTO" not in " ".join(INSTRUCTION.findall(part)), name


INSTRUCTION = re.compile(r"<w:instrText[^>]*>\s*([^<]*?)\s*</w:instrText>")


def markdown_made(text: str) -> list[str]:
    """What a CommonMark renderer (raw HTML allowed) makes of `text` that is more than text."""
    made = []
    for token in MarkdownIt("commonmark").parse(text):
        for t in [token, *(token.children or [])]:
            if t.type in ("html_block", "html_inline", "link_open", "image"):
                made.append(f"{t.type}: {t.content or t.attrs}")
    return made


def markdown_text(text: str) -> str:
    rendered = MarkdownIt("commonmark").render(text)
    assert not injected(rendered).found
    return "".join(injected(rendered).text)


def test_the_markdown_makes_no_html_link_or_image(web: Web, world: dict[str, Any]) -> None:
    document = web.get(f"/plans/{world['plan_id']}/document.md").get_data(as_text=True)
    assert markdown_made(document) == []
    shown = markdown_text(document)
    for typed in plan_lines():
        assert " ".join(typed.split()) in " ".join(shown.split()), typed

    workshop = web.get(f"/workshop/{world['code']}/export.md").get_data(as_text=True)
    assert markdown_made(workshop) == []
    shown = markdown_text(workshop)
    for typed in (IDEA, LABEL):
        assert typed in shown, typed


def test_the_markdown_check_would_catch_raw_html() -> None:
    """The renderer really does make HTML and links of unescaped text, so the test above can fail."""
    assert markdown_made(PAYLOADS[0]) and markdown_made(PAYLOADS[7])


# ---------------------------------------------------------------- what one may send


def plan_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Plan)) or 0


def test_an_import_above_the_limit_is_refused_with_a_message_and_saves_nothing(
    app: Flask, web: Web, example_doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A smaller limit, so that the file stays small: the check is the same at any size.
    monkeypatch.setitem(app.config, "MAX_IMPORT_BYTES", 64 * 1024)
    body = json.dumps(example_doc).encode() + b" " * (64 * 1024)
    before = plan_count(app)
    response = web.post("/plans/import", {"file": (io.BytesIO(body), "plan.json")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "an import takes at most 64 KiB" in response.get_data(as_text=True)
    assert plan_count(app) == before


def message(field: Field) -> str:
    if field.kind is Kind.LIST:
        return f"Each entry can be at most {field.max_length} characters"
    return f"Field cannot be longer than {field.max_length} characters."


def test_text_over_its_declared_length_is_refused_and_the_saved_value_kept(app: Flask, web: Web, owner: Any) -> None:
    with app.app_context():
        plan = store.create_from_doc(filled_doc(items_per_kind=1))
        db.session.add(Membership(plan_id=plan.id, user_id=owner.id, role="facilitator"))
        db.session.commit()
        saved = store.load_doc(plan)
        db.session.remove()
    forms: list[tuple[str, str, list[Field]]] = []
    for step in STEPS:
        fields = [f for f in PLAN_FIELDS if f.name in step.plan_fields and f.kind in TEXT_KINDS]
        if fields:
            forms.append((f"/plans/{plan.id}/steps/{step.slug}", "plan", fields))
    for entity in ENTITIES:
        key = saved[entity.collection][0]["key"]
        fields = [f for f in entity.fields if f.kind in TEXT_KINDS]
        forms.append((f"/plans/{plan.id}/items/{entity.name}/{key}", f"{entity.name}-{key}", fields))
    checked: set[str] = set()
    for url, prefix, fields in forms:
        response = web.post(url, {f"{prefix}-{f.name}": "x" * (f.max_length + 1) for f in fields})
        assert response.status_code == 422, url
        page = response.get_data(as_text=True)
        for f in fields:
            assert message(f) in page, f"{url} {f.name}"
            checked.add(f"{prefix}-{f.name}")
    with app.app_context():
        assert store.load_doc(store.get_plan(plan.id)) == saved
    # Every plan field a step edits was tried (a field on no step has no form to send).
    assert {f"plan-{name}" for name in STEP_OF_PLAN_FIELD} >= {c for c in checked if c.startswith("plan-")}
    assert {f"plan-{f.name}" for f in PLAN_FIELDS if f.kind in TEXT_KINDS and f.name in STEP_OF_PLAN_FIELD} <= checked


def test_an_entry_over_its_length_is_quoted_back_cut_at_a_word(app: Flask, web: Web, example_plan: Any) -> None:
    """The message names the entry that is too long by its first words, never by half a word."""
    field, entity = next((f, e) for e in ENTITIES for f in e.fields if f.kind is Kind.LIST)
    with app.app_context():
        key = store.load_doc(store.get_plan(example_plan.id))[entity.collection][0]["key"]
    entry = "Neighbourhood associations downtown " + "x" * field.max_length
    prefix = f"{entity.name}-{key}"
    response = web.post(f"/plans/{example_plan.id}/items/{entity.name}/{key}", {f"{prefix}-{field.name}": entry})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"at most {field.max_length} characters: “Neighbourhood associations…”" in page


def test_a_noncharacter_typed_into_a_form_is_dropped_as_the_import_would_refuse_it(
    app: Flask, web: Web, example_plan: Any
) -> None:
    """U+FFFE and U+FFFF are not characters: the import refuses them, so a form drops them as
    it is read (one rule, `planner.text.UNPRINTABLE`), and the plan it saved exports and imports."""
    response = web.post(f"/plans/{example_plan.id}/rename", {"title": "Our\uffff plan\ufffe for spring"})
    assert response.status_code == 302
    exported = web.get(f"/plans/{example_plan.id}/export.json")
    assert exported.get_json()["plan"]["title"] == "Our plan for spring"
    with app.app_context():
        assert db.session.get(Plan, example_plan.id).title == "Our plan for spring"
        copy = import_document(exported.get_data())
        assert copy.title == "Our plan for spring"


def test_the_page_check_would_catch_each_payload_unescaped() -> None:
    """Each HTML payload, were it ever put in a page raw, is caught by the check above."""
    caught = [p for p in (*PAYLOADS, NAME, MY_NAME, TITLE, IDEA, LABEL, GUEST) if injected(f"<p>{p}</p>").found]
    not_markup = {PAYLOADS[7], PAYLOADS[8], PAYLOADS[10], BIDI_PAYLOAD, SQL_PAYLOAD, PAYLOADS[-1]}
    assert set(caught) == {*PAYLOADS, NAME, MY_NAME, TITLE, IDEA, LABEL, GUEST} - not_markup
