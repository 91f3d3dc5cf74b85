"""Bad input, fuzzed with hypothesis against every form and the import, never gets a 500.

Every POST route in the app's URL map has a recipe here (`RECIPES`): who may use it, what
its URL arguments name (a plan, a change, an item key, a workshop code...) and the fields its
form expects, read from the WTForms class where there is one. `test_every_post_route_has_a_recipe`
reads the URL map, so a new form fails the suite until it is added here.

For each route (and each step's and each entity's declared form) hypothesis sends bodies that
mix valid-looking and hostile values: empty, whitespace, just over and far over the maximum
length, control characters, NUL, lone surrogates as they arrive encoded, invalid UTF-8, numbers
where text goes and text where numbers go, another plan's ids, unknown choices, repeated, extra
and missing keys, wrong version tokens. Each goes with a valid CSRF token, as someone allowed
to use the route, and the answer must be:

- never a 5xx;
- a 4xx carries a message a person can read (an alert on the page, the error page, or JSON
  with an `error`);
- after a 4xx, nothing saved has changed: every column of every row of every table is as
  before (which covers each plan's JSON export, read from those rows), rate-limit counters
  aside: counting a refused attempt is their job.

A 2xx or 3xx is allowed (random text can be a fine title); the rows are then put back, so the
next example starts from the same world: two plans (ours and another's), their people, history,
comments, invitations and running workshops. Putting rows back takes milliseconds; building
the world once takes most of a second.

Examples are derandomized, so CI sees the same ones every run. `PLANNER_FUZZ_EXAMPLES` raises
their number for a deeper search.

`test_interchange_properties.py` proves, below HTTP, that mutated documents write nothing; the
import fuzz here is about the upload itself: random bytes, wrong encodings, huge and nested
JSON, wrong content types, several files and no file at all.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart
from wtforms import Field as FormField

from planner.accounts import membership, users
from planner.accounts.forms import (
    AddMemberForm,
    InvitationForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    ResetForm,
    ResetRequestForm,
    RoleForm,
    SignupForm,
)
from planner.accounts.models import Membership, User
from planner.discussion import comments
from planner.discussion.forms import AssignmentForm, CommentForm
from planner.domain import ENTITIES, ENTITY_BY_NAME, STEPS, Kind, limits
from planner.extensions import db
from planner.interchange import dumps
from planner.interchange.example import example_document
from planner.interchange.routes import ImportForm
from planner.interchange.transfer import wrap
from planner.models import Plan
from planner.plans import store
from planner.plans.forms import TitleForm
from planner.plans.models import Change
from planner.wizard.forms import form_class
from planner.workshop import access
from planner.workshop import operations as ops
from planner.workshop.forms import CodeForm, JoinForm, StartForm
from planner.workshop.models import WorkshopSession
from tests.conftest import assert_table_covers

# Counting refused attempts is what these tables are for; they are not anyone's saved work.
NOT_SAVED_WORK = {"rate_limit_counters"}
MISSING_ID = 987_654_321
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FORM_TYPE = "application/x-www-form-urlencoded"

# ---------------------------------------------------------------- the world every example starts from


def _other_plan_doc() -> dict[str, Any]:
    """The example plan again, under another title and with every key changed, so that the
    other plan's item keys are not also this plan's."""
    doc = example_document()["plan"]
    doc["title"] = "Otto's own plan"
    for entity in ENTITIES:
        for item in doc.get(entity.collection, []):
            item["key"] = "x" + item["key"]
            for f in entity.fields:
                if f.kind is Kind.REF and item.get(f.name):
                    item[f.name] = "x" + item[f.name]
                elif f.kind is Kind.REF_LIST:
                    item[f.name] = ["x" + key for key in item.get(f.name) or []]
    return doc


@dataclass
class World:
    """Ids of everything the routes can name: this plan's, and another plan's."""

    ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> {"own": .., "other": ..}
    logins: dict[str, str] = field(default_factory=dict)  # actor -> Flask-Login id
    cookie: tuple[str, str] = ("", "")  # the participant's workshop cookie

    def resolve(self, kind: str, which: str) -> Any:
        if which == "missing":
            return MISSING[kind.split(":")[0]]
        if which == "hostile":  # a NUL and an escape in a key, a code or a token; ids stay ints
            own = self.ids[kind]["own"]
            return own[:2] + "\x00\x1b" + own[2:] if isinstance(own, str) else 2**40  # past any database integer
        return self.ids[kind][which]


MISSING = {
    "plan": MISSING_ID,
    "change": MISSING_ID,
    "comment": MISSING_ID,
    "invitation": MISSING_ID,
    "member": MISSING_ID,
    "group": MISSING_ID,
    "idea": MISSING_ID,
    "code": "ZZZZ9999",
    "key": "no-such-key",
    "invitation_token": "not-a-real-invitation-token",
    "reset_token": "not.a.real-reset-token",
}


def _add_user(email: str, name: str, password_hash: str) -> User:
    user = User(email=email, name=name, password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    return user


def _plan_with_things(doc: dict[str, Any], facilitator: User, others: dict[User, str]) -> dict[str, Any]:
    """Store a plan with a change, an invitation, a comment and a running workshop (an idea,
    a group and a participant in it)."""
    plan = store.create_from_doc(doc)
    db.session.add(Membership(plan_id=plan.id, user_id=facilitator.id, role="facilitator"))
    for user, role in others.items():
        db.session.add(Membership(plan_id=plan.id, user_id=user.id, role=role))
    db.session.commit()
    goal = ENTITY_BY_NAME["goal"]
    key = doc["goals"][0]["key"]
    store.update_item(plan, goal, key, {"why": "So that history has a change to show"}, actor=facilitator)
    change = db.session.scalar(select(Change.id).where(Change.plan_id == plan.id).order_by(Change.id.desc()))
    invitation, token = membership.create_invitation(plan, "viewer", 7, facilitator)
    comment = comments.add_comment(plan, facilitator, "A comment to delete", step="goals")
    ws = ops.start_session(plan, facilitator, "goals")
    participant = ops.join(ws, "Ana")
    idea = ops.add_idea(ws, participant, "goals", "Ask the neighbours first")
    group = ops.add_group(ws, "goals", "Listening")
    things = {
        "plan": plan.id,
        "change": change,
        "invitation": invitation.id,
        "invitation_token": token,
        "comment": comment.id,
        "code": ws.code,
        "idea": idea.number,
        "group": group.id,
        "participant": access.participant_token(ws, participant),
    }
    for entity in ENTITIES:
        things[f"key:{entity.name}"] = doc[entity.collection][0]["key"]
    return things


def build_world(app: Flask, password_hash: str) -> World:
    """Empty every table and store the world: two plans, their people and their workshops."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        owner = _add_user("fay@example.org", "Fay Facilitator", password_hash)
        editor = _add_user("eddie@example.org", "Eddie Editor", password_hash)
        outsider = _add_user("otto@example.org", "Otto Outsider", password_hash)
        db.session.commit()
        own = _plan_with_things(example_document()["plan"], owner, {editor: "editor"})
        other = _plan_with_things(_other_plan_doc(), outsider, {})
        world = World()
        for kind in own:
            world.ids[kind] = {"own": own[kind], "other": other[kind]}
        world.ids["member"] = {"own": editor.id, "other": outsider.id}
        world.ids["reset_token"] = {"own": users.reset_token(owner), "other": users.reset_token(outsider)}
        world.logins = {"owner": owner.get_id(), "outsider": outsider.get_id()}
        ws = db.session.scalar(select(WorkshopSession).where(WorkshopSession.code == own["code"]))
        world.cookie = (access.cookie_name(ws), own["participant"])
        db.session.remove()
    return world


def _rows(conn: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        table.name: [dict(row) for row in conn.execute(select(table)).mappings()] for table in db.metadata.sorted_tables
    }


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Everything saved: every column of every row of every table. A plan's JSON export is
    read from these rows alone, so equal rows mean an equal export; comparing the rows also
    covers accounts, memberships, history and workshops, which the export leaves out."""
    with app.app_context(), db.engine.connect() as conn:
        return {
            name: sorted(repr(sorted(row.items())) for row in table_rows)
            for name, table_rows in _rows(conn).items()
            if name not in NOT_SAVED_WORK
        }


@dataclass
class Pristine:
    """The world as built, kept as rows: putting them back is much quicker than building it."""

    world: World
    rows: dict[str, list[dict[str, Any]]]
    saved: dict[str, list[str]]  # its snapshot


_PRISTINE: dict[int, Pristine] = {}


def pristine(app: Flask, password_hash: str) -> Pristine:
    if id(app) not in _PRISTINE:
        world = build_world(app, password_hash)
        with app.app_context(), db.engine.connect() as conn:
            rows = _rows(conn)
        _PRISTINE[id(app)] = Pristine(world, rows, snapshot(app))
    return _PRISTINE[id(app)]


def restore(app: Flask, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Put every table back as it was (the same ids, so the world's ids still name things)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            for table in db.metadata.sorted_tables:
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])


def forget_attempts(app: Flask) -> None:
    """Rate limits would soon answer every log-in with 429; each example starts uncounted."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM rate_limit_counters"))


# ---------------------------------------------------------------- browsers


class Browsers:
    """One browser per actor, made on demand, each with its CSRF token. After an accepted
    request (a log-in, a log-out) `reset` puts each browser's cookies back as they were."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app = app
        self.world = world
        self._made: dict[str, tuple[FlaskClient, str, list[tuple[str, Any]]]] = {}

    def get(self, actor: str) -> tuple[FlaskClient, str]:
        if actor not in self._made:
            client = self.app.test_client()
            if actor in self.world.logins:
                with client.session_transaction() as session:
                    session["_user_id"] = self.world.logins[actor]
                    session["_fresh"] = True
            if actor == "participant":
                name, value = self.world.cookie
                client.set_cookie(name, value)
            page = client.get("/join").get_data(as_text=True)
            match = CSRF_META.search(page)
            assert match, "every page carries the CSRF token"
            cookies = [(name, client.get_cookie(name)) for name in self._cookie_names()]
            self._made[actor] = (client, match.group(1), cookies)
        client, token, _cookies = self._made[actor]
        return client, token

    def _cookie_names(self) -> list[str]:
        return [self.app.config["SESSION_COOKIE_NAME"], self.world.cookie[0]]

    def reset(self) -> None:
        for client, _token, cookies in self._made.values():
            for name, cookie in cookies:
                if cookie is None:
                    client.delete_cookie(name)
                else:
                    client.set_cookie(name, cookie.value)


@dataclass
class Bench:
    """The app, the world and its browsers; the world is put back after an accepted example."""

    app: Flask = field(repr=False)
    start: Pristine = field(repr=False)
    browsers: Browsers = field(init=False, repr=False)

    def __post_init__(self) -> None:
        restore(self.app, self.start.rows)
        self.browsers = Browsers(self.app, self.start.world)

    @property
    def world(self) -> World:
        return self.start.world

    def rebuild(self) -> None:
        restore(self.app, self.start.rows)
        self.browsers.reset()


@pytest.fixture
def bench(app: Flask, password_hash: str) -> Bench:
    return Bench(app, pristine(app, password_hash))


# ---------------------------------------------------------------- what each field takes


@dataclass(frozen=True)
class Spec:
    """What a field expects: its kind, and for text its longest, for choices its values."""

    kind: str  # text | choice | multi | bool | date | number | int | version
    max_length: int = 200
    choices: tuple[str, ...] = ()
    ref: str = ""  # a world kind ("key:goal", "group"): also try another plan's, and a missing one


@dataclass(frozen=True)
class Ref:
    """A value that names something in the world: resolved when the request is sent."""

    kind: str
    which: str  # own | other | missing | hostile


def spec_of(form_field: FormField) -> Spec:
    """Read a WTForms field: its type, its Length maximum, its choices."""
    kind = form_field.type
    if kind in ("SelectField",):
        return Spec("choice", choices=tuple(str(c[0]) for c in form_field.iter_choices()))
    if kind in ("SelectMultipleField", "CheckboxesField"):
        return Spec("multi", choices=tuple(str(c[0]) for c in form_field.iter_choices()))
    if kind == "BooleanField":
        return Spec("bool")
    if kind == "DateField":
        return Spec("date")
    if kind == "DecimalField":
        return Spec("number")
    longest = max((getattr(v, "max", -1) or -1 for v in form_field.validators), default=-1)
    if longest <= 0:
        longest = next((getattr(v, "max_length", 0) for v in form_field.validators), 0) or 200
    return Spec("text", max_length=longest)


def specs_of(app: Flask, make_form: Callable[[], Any]) -> dict[str, Spec]:
    """The fields a form expects, by the names the browser sends (prefix included)."""
    with app.test_request_context():
        form = make_form()
        return {f.name: spec_of(f) for f in form if f.type != "CSRFTokenField"}


# Values that no field should take badly. Bytes go on the wire as they are.
SURROGATE = "\ud800".encode("utf-8", "surrogatepass")  # a lone surrogate, as a browser bug sends it
HOSTILE: list[str | bytes] = [
    "",
    " ",
    " \t\r\n ",
    "\x00",
    "title\x00with a NUL",
    "\x01\x02\x1b[31mred\x7f",
    "\u202eright to left",
    "\ufeffBOM",
    SURROGATE,
    b"half " + SURROGATE + b" a pair",
    b"\xff\xfe\xc3 not UTF-8",
    "-1",
    "0",
    "99999999999999999999999999999999",
    "1e309",
    "NaN",
    "<script>alert(1)</script>",
    "'; DROP TABLE plans; --",
    "../../etc/passwd",
]


def _text_values(max_length: int) -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            [
                "x" * max_length,
                "x" * (max_length + 1),
                "é" * (max_length + 1),
                "\x00" * (max_length + 1),
                "y" * min(max_length * 20, 200_000),
                "\n".join(["one line"] * 300),  # a list field's entries, too many of them
            ]
        ),
    )


DATES = ["2026-01-31", "2026-02-30", "31/01/2026", "0000-00-00", "9999-12-31", "10000-01-01", "-001-01-01", "2026-1-1"]
NUMBERS = [
    "0",
    "-1",
    "1.5",
    "-0",
    "1e309",
    "Infinity",
    "NaN",
    "9" * 400,
    "1,5",
    "0x10",
    "1_000",
    "168",
    "169",
    "\uff11\uff12",
]
INTS = ["1", "2", "0", "-1", "1.5", "abc", " 3 ", "99999999999999999999999", str(2**31), "1e3", "٣"]
VERSIONS = ["", "0", "1", "-1", "abc", "1.0", "99999999999999999999999999", str(2**63), str(-(2**63) - 1)]


def values_for(spec: Spec) -> st.SearchStrategy[Any]:
    hostile = st.sampled_from(HOSTILE)
    match spec.kind:
        case "text":
            typed = _text_values(spec.max_length)
        case "choice" | "multi":
            typed = st.sampled_from(spec.choices or ("",)) | st.text(max_size=12)
        case "bool":
            typed = st.sampled_from(["y", "on", "1", "true", "false", "0", ""])
        case "date":
            typed = st.sampled_from(DATES)
        case "number":
            typed = st.sampled_from(NUMBERS)
        case "int":
            typed = st.sampled_from(INTS)
        case "version":
            typed = st.sampled_from(VERSIONS)
        case _:
            raise ValueError(spec.kind)
    if spec.ref:
        typed = typed | st.sampled_from([Ref(spec.ref, "other"), Ref(spec.ref, "missing")])
    return st.one_of(typed, typed, hostile)


# How often a field is left out, sent once, or sent twice (each value drawn on its own).
COPIES = st.sampled_from([0, 1, 1, 1, 1, 2])


@st.composite
def form_body(draw: st.DrawFn, specs: dict[str, Spec]) -> list[tuple[str, Any]]:
    """Each expected field missing, once or repeated, then a few fields nobody expects."""
    pairs: list[tuple[str, Any]] = []
    for name, spec in specs.items():
        copies = 3 if spec.kind == "multi" and draw(st.booleans()) else draw(COPIES)
        pairs.extend((name, draw(values_for(spec))) for _ in range(copies))
    for _ in range(draw(st.integers(0, 2))):
        extra = draw(st.sampled_from(["", "x", "csrf_token", "__proto__", "a[]", "plan-title", "\x00", "é"]))
        pairs.append((extra, draw(st.sampled_from(HOSTILE))))
    return pairs


def _wire(value: Any, world: World) -> bytes:
    if isinstance(value, Ref):
        value = world.resolve(value.kind, value.which)
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def encode(pairs: list[tuple[str, Any]], token: str, world: World) -> bytes:
    """An application/x-www-form-urlencoded body, built by hand: a browser's encoder would
    refuse lone surrogates and invalid UTF-8, which a hostile client sends anyway."""
    fields = [("csrf_token", token), *pairs]
    return b"&".join(
        quote_from_bytes(_wire(k, world)).encode() + b"=" + quote_from_bytes(_wire(v, world)).encode()
        for k, v in fields
    )


# How the body is packed: mostly as a browser's form, sometimes as the page's script sends it
# (multipart, the token in a header), or as what no page sends: JSON or plain text.
PACKINGS = st.sampled_from(["form"] * 12 + ["multipart"] * 3 + ["json object", "json other", "text"])


def post_multipart(client: FlaskClient, url: str, values: Any, headers: dict[str, str] | None = None) -> Any:
    """Post multipart form data encoded in memory: the test client's own encoder spools a large
    body to a temporary file that nobody closes (a ResourceWarning, an error here)."""
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


# JSON that is not a flat object of strings: what Flask-WTF would choke on, were it read.
JSON_OTHER = [
    "1e999",
    '"ab"',
    "[1, 2]",
    "null",
    '{"title": 5}',
    '{"title": ["a", {"b": 1}]}',
    "[" * 50_000 + "]" * 50_000,
]


def send(
    client: FlaskClient,
    url: str,
    packing: str,
    pairs: list[tuple[str, Any]],
    token: str,
    world: World,
    headers: dict[str, str],
    json_other: str = "null",
) -> Any:
    """Post the fields packed one way or another, with the CSRF token where that packing puts it."""
    if packing == "form":
        return client.post(url, data=encode(pairs, token, world), content_type=FORM_TYPE, headers=headers)
    headers = {**headers, "X-CSRFToken": token}
    text_pairs = [
        (_wire(k, world).decode("utf-8", "replace"), _wire(v, world).decode("utf-8", "replace")) for k, v in pairs
    ]
    if packing == "multipart":
        return post_multipart(client, url, MultiDict(text_pairs), headers)
    if packing == "text":
        return client.post(url, data=encode(pairs, token, world), content_type="text/plain", headers=headers)
    body = json.dumps(dict(text_pairs)) if packing == "json object" else json_other
    return client.post(url, data=body, content_type="application/json", headers=headers)


# ---------------------------------------------------------------- recipes: one per POST route


@dataclass(frozen=True)
class Recipe:
    """How to reach a POST route: who sends it, what its URL names, the fields it reads."""

    actor: str  # owner (the plan's facilitator) | outsider | anonymous | participant
    args: dict[str, str] = field(default_factory=dict)  # URL argument -> world kind, or "=value"
    form: Callable[[], Any] | None = None  # a WTForms form to read the fields from
    fields: dict[str, Spec] = field(default_factory=dict)  # fields read from request.form directly


def _wizard_fields_form(slug: str) -> Callable[[], Any]:
    from planner.domain import STEP_BY_SLUG, plan_field

    fields = tuple(plan_field(name) for name in STEP_BY_SLUG[slug].plan_fields)
    return lambda: form_class(fields, _example_doc())(prefix="plan", formdata=None)


def _entity_form(entity_name: str, prefix: str) -> Callable[[], Any]:
    entity = ENTITY_BY_NAME[entity_name]
    return lambda: form_class(entity.fields, _example_doc())(prefix=prefix, formdata=None)


def _example_doc() -> dict[str, Any]:
    return example_document()["plan"]


PLAN = {"plan_id": "plan"}
VERSION = {"base_version": Spec("version")}
STEP = Spec("choice", choices=tuple(s.slug for s in STEPS))
ENTITY = Spec("choice", choices=tuple(e.name for e in ENTITIES))
CONFLICT = {"resolution": Spec("choice", choices=("discard", "mine"))}
WORKSHOP = {"code": "code"}
IDEA = {"code": "code", "number": "idea"}
TEXT = Spec("text", max_length=500)

RECIPES: dict[str, Recipe] = {
    # accounts
    "accounts.login": Recipe("anonymous", form=lambda: LoginForm(formdata=None)),
    "accounts.signup": Recipe("anonymous", form=lambda: SignupForm(formdata=None)),
    "accounts.account": Recipe("owner", form=lambda: PasswordChangeForm(formdata=None)),
    "accounts.profile": Recipe("owner", form=lambda: ProfileForm(formdata=None, prefix="profile")),
    "accounts.logout": Recipe("owner"),
    "accounts.reset_request": Recipe("anonymous", form=lambda: ResetRequestForm(formdata=None)),
    "accounts.reset_password": Recipe("anonymous", {"token": "reset_token"}, form=lambda: ResetForm(formdata=None)),
    # members
    "members.add": Recipe("owner", PLAN, form=lambda: AddMemberForm(formdata=None)),
    "members.change_role": Recipe("owner", {**PLAN, "user_id": "member"}, form=lambda: RoleForm(formdata=None)),
    "members.remove": Recipe("owner", {**PLAN, "user_id": "member"}),
    "members.leave": Recipe("owner", PLAN),
    "members.invite": Recipe("owner", PLAN, form=lambda: InvitationForm(formdata=None)),
    "members.revoke": Recipe("owner", {**PLAN, "invitation_id": "invitation"}),
    "members.accept": Recipe("outsider", {"token": "invitation_token"}),
    "members.accept_sent": Recipe("outsider", {"invitation_id": "invitation"}),
    "members.decline_sent": Recipe("outsider", {"invitation_id": "invitation"}),
    # plans
    "plans.create": Recipe("owner", form=lambda: TitleForm(formdata=None)),
    "plans.rename": Recipe(
        "owner",
        PLAN,
        form=lambda: TitleForm(formdata=None),
        fields={**VERSION, "back": Spec("choice", choices=("wizard",))},
    ),
    "plans.duplicate": Recipe("owner", PLAN),
    "plans.delete": Recipe("owner", PLAN),
    # the wizard: one case per step with fields and per entity, below
    "wizard.save_fields": Recipe("owner", {**PLAN, "slug": "=starting-point"}, fields={**VERSION, **CONFLICT}),
    "wizard.add_item": Recipe("owner", {**PLAN, "entity_name": "=goal"}),
    "wizard.update_item": Recipe(
        "owner", {**PLAN, "entity_name": "=goal", "key": "key:goal"}, fields={**VERSION, **CONFLICT}
    ),
    "wizard.move_item": Recipe(
        "owner",
        {**PLAN, "entity_name": "=goal", "key": "key:goal"},
        fields={"direction": Spec("choice", choices=("up", "down"))},
    ),
    "wizard.delete_item": Recipe(
        "owner",
        {**PLAN, "entity_name": "=goal", "key": "key:goal"},
        fields={"confirm": Spec("choice", choices=("yes",))},
    ),
    # history
    "history.restore": Recipe("owner", {**PLAN, "change_id": "change"}),
    "discussion.add_comment": Recipe(
        "owner",
        PLAN,
        form=lambda: CommentForm(formdata=None),
        fields={"step": STEP, "entity": ENTITY, "key": Spec("text", ref="key:goal")},
    ),
    "discussion.delete_comment": Recipe("owner", {**PLAN, "comment_id": "comment"}),
    "discussion.assign": Recipe(
        "owner",
        {**PLAN, "slug": "=goals"},
        form=lambda: AssignmentForm(formdata=None),
        fields={"owner": Spec("int", ref="member")},
    ),
    # interchange: the upload has a test of its own (test_the_import_upload_never_fails)
    "interchange.import_upload": Recipe("owner", form=lambda: ImportForm(formdata=None)),
    # the workshop
    "workshop.start": Recipe("owner", PLAN, form=lambda: StartForm(formdata=None)),
    "workshop.join_code": Recipe(
        "anonymous", form=lambda: CodeForm(formdata=None), fields={"code": Spec("text", ref="code")}
    ),
    "workshop.join": Recipe("anonymous", WORKSHOP, form=lambda: JoinForm(formdata=None)),
    "workshop.add_idea": Recipe("participant", WORKSHOP, fields={"step": STEP, "text": TEXT}),
    "workshop.place_dot": Recipe(
        "participant",
        WORKSHOP,
        fields={"idea": Spec("int", ref="idea"), "change": Spec("choice", choices=("add", "remove"))},
    ),
    "workshop.move_room": Recipe("owner", WORKSHOP, fields={"step": STEP}),
    "workshop.set_roam": Recipe("owner", WORKSHOP, fields={"roam": Spec("bool")}),
    "workshop.configure_step": Recipe(
        "owner", {**WORKSHOP, "slug": "=goals"}, fields={"anonymous": Spec("bool"), "private": Spec("bool")}
    ),
    "workshop.reveal": Recipe("owner", {**WORKSHOP, "slug": "=goals"}),
    "workshop.voting": Recipe(
        "owner",
        {**WORKSHOP, "slug": "=goals"},
        fields={
            "action": Spec("choice", choices=("open", "close")),
            "dots": Spec("int"),
            "per_idea": Spec("int"),
        },
    ),
    "workshop.timer": Recipe(
        "owner",
        WORKSHOP,
        fields={"action": Spec("choice", choices=("start", "add", "stop")), "minutes": Spec("int")},
    ),
    "workshop.write_card": Recipe(
        "owner", WORKSHOP, fields={"step": STEP, "text": TEXT, "for": Spec("text", max_length=60)}
    ),
    "workshop.edit_idea": Recipe("owner", IDEA, fields={"text": TEXT, "step": STEP}),
    "workshop.hide_idea": Recipe("owner", IDEA, fields={"hidden": Spec("choice", choices=("0", "1"))}),
    "workshop.group_idea": Recipe("owner", IDEA, fields={"group": Spec("int", ref="group")}),
    "workshop.add_group": Recipe("owner", WORKSHOP, fields={"step": STEP, "label": Spec("text", max_length=80)}),
    "workshop.rename_group": Recipe(
        "owner", {**WORKSHOP, "group_id": "group"}, fields={"label": Spec("text", max_length=80)}
    ),
    "workshop.delete_group": Recipe("owner", {**WORKSHOP, "group_id": "group"}),
    "workshop.end": Recipe("owner", WORKSHOP),
    "workshop.promote": Recipe("owner", IDEA, fields={"entity": ENTITY}),
}


def post_routes(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_route_has_a_recipe(app: Flask) -> None:
    assert_table_covers(post_routes(app), RECIPES, "RECIPES in tests/test_fuzz_forms.py")


def _cases() -> list[tuple[str, str, Recipe]]:
    """Every recipe once; the wizard's once per step with fields and per entity, since each of
    those is a different form built from the declaration."""
    cases = []
    for endpoint, recipe in sorted(RECIPES.items()):
        if endpoint == "interchange.import_upload":
            continue
        if endpoint == "wizard.save_fields":
            for step in STEPS:
                if step.plan_fields:
                    args = {**recipe.args, "slug": f"={step.slug}"}
                    form = _wizard_fields_form(step.slug)
                    cases.append((endpoint, step.slug, Recipe(recipe.actor, args, form, recipe.fields)))
        elif endpoint in ("wizard.add_item", "wizard.update_item"):
            for entity in ENTITIES:
                args = {**recipe.args, "entity_name": f"={entity.name}"}
                if "key" in args:
                    args["key"] = f"key:{entity.name}"
                prefix = f"new-{entity.name}" if endpoint == "wizard.add_item" else f"{entity.name}-KEY"
                form = _entity_form(entity.name, prefix)
                cases.append((endpoint, entity.name, Recipe(recipe.actor, args, form, recipe.fields)))
        else:
            cases.append((endpoint, "", recipe))
    return cases


CASES = _cases()


# ---------------------------------------------------------------- what a refusal must say


class _Messages(HTMLParser):
    """The text a person reads as the answer: alerts, and the page's main heading."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[str] = []
        self.headings: list[str] = []
        self._alert_depth = 0
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._alert_depth:
            self._alert_depth += 1
        elif dict(attrs).get("role") == "alert":
            self._alert_depth = 1
            self.alerts.append("")
        self._in_h1 = self._in_h1 or tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        if self._alert_depth:
            self._alert_depth -= 1
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._alert_depth:
            self.alerts[-1] += data
        if self._in_h1:
            self.headings.append(data)


def message_of(response: Any) -> str:
    """What the refusal tells the person: JSON's `error`, the page's alerts, or its heading."""
    body = response.get_data(as_text=True)
    if response.is_json:
        return str((json.loads(body) or {}).get("error") or "").strip()
    parser = _Messages()
    parser.feed(body)
    alerts = " ".join(a.strip() for a in parser.alerts if a.strip())
    return alerts or " ".join(h.strip() for h in parser.headings if h.strip())


def check_answer(bench: Bench, before: dict[str, list[str]], response: Any, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: answered {status}"
    if 400 <= status < 500:
        assert message_of(response), f"{what}: {status} with no message for the person"
        if status == 422 and not response.is_json:
            assert 'role="alert"' in response.get_data(as_text=True), f"{what}: 422 without an alert"
        assert snapshot(bench.app) == before, f"{what}: refused with {status}, but the saved data changed"
    else:
        bench.rebuild()


def _url(bench: Bench, endpoint: str, recipe: Recipe, which: dict[str, str]) -> str:
    values = {}
    for name, kind in recipe.args.items():
        values[name] = kind[1:] if kind.startswith("=") else bench.world.resolve(kind, which.get(name, "own"))
    with bench.app.test_request_context():
        return url_for(endpoint, **values)


WHICH = st.sampled_from(["own"] * 12 + ["other", "missing", "hostile"])
ACCEPT = st.sampled_from([None, None, "application/json", "text/html", "*/*"])

# A handful of examples per route keeps the suite quick (the whole file runs in well under a
# minute per database); PLANNER_FUZZ_EXAMPLES=200 searches much harder, for a session of its own.
EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "5"))
FUZZ = settings(
    max_examples=EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(("endpoint", "variant", "recipe"), CASES, ids=[f"{e}-{v}" if v else e for e, v, _ in CASES])
@FUZZ
@given(data=st.data())
def test_bad_form_input_is_refused_with_a_message_and_saves_nothing(
    bench: Bench, endpoint: str, variant: str, recipe: Recipe, data: st.DataObject
) -> None:
    specs = dict(recipe.fields)
    if recipe.form is not None:
        form_specs = specs_of(bench.app, recipe.form)
        if endpoint == "wizard.update_item":  # the prefix names the item being edited
            key = bench.world.resolve(f"key:{variant}", "own")
            form_specs = {name.replace("-KEY-", f"-{key}-"): spec for name, spec in form_specs.items()}
        specs = {**form_specs, **specs}
    which = {name: data.draw(WHICH, label=f"url {name}") for name in recipe.args}
    pairs = data.draw(form_body(specs), label="form")
    accept = data.draw(ACCEPT, label="accept")
    packing = data.draw(PACKINGS, label="packing")
    json_other = data.draw(st.sampled_from(JSON_OTHER), label="json") if packing == "json other" else ""

    client, token = bench.browsers.get(recipe.actor)
    url = _url(bench, endpoint, recipe, which)
    forget_attempts(bench.app)
    before = bench.start.saved
    headers = {"Accept": accept} if accept else {}
    response = send(client, url, packing, pairs, token, bench.world, headers, json_other)
    check_answer(bench, before, response, f"{packing} POST {url}")


# ---------------------------------------------------------------- the import, over HTTP


def _example_json() -> str:
    """A good plan file: the other plan's document (its keys differ from the stored plan's)."""
    return dumps(wrap(_other_plan_doc()))


def _nested(depth: int) -> bytes:
    return b'{"plan": ' + b"[" * depth + b"]" * depth + b"}"


def _over(limit: int) -> bytes:
    """A JSON document just over the import's size limit."""
    head = b'{"format": "planner", "version": 1, "plan": {"title": "'
    return head + b"x" * (limit + 1 - len(head) - 4) + b'"}}\n'


GOOD = _example_json()
IMPORT_LIMIT = limits.import_bytes()  # config.Config.MAX_IMPORT_BYTES; checked in the test
CONTENTS = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"   \n",
            b"null",
            b"[]",
            b'"a plan"',
            b"1e999999",
            b"NaN",
            b'{"format": "planner", "version": 1, "plan": {}}',
            b'{"format": "planner", "format": "planner"}',
            b'{"format": "planner", "version": 1, "plan": {"title": "NUL \\u0000 here"}}',
            b'{"format": "planner", "version": 1, "plan": {"title": "\\ud800"}}',
            b'{"format": "planner", "version": ' + b"9" * 5000 + b"}",
            _nested(5_000),
            _nested(100_000),
            GOOD.encode("utf-16"),
            GOOD.encode("utf-32"),
            GOOD.encode("utf-8").replace(b'"', b"'"),
            GOOD.replace("Otto", "Ottø").encode("latin-1", "replace"),
            GOOD.encode("utf-8")[: len(GOOD) // 2],
            GOOD.encode("utf-8") + b"\x00",
            b"\xef\xbb\xbf" + GOOD.encode("utf-8"),  # a byte-order mark is fine
            GOOD.encode("utf-8"),
            _over(IMPORT_LIMIT),
        ]
    ),
)
FILENAMES = st.sampled_from(
    ["plan.json", "", "plan.exe", "../../etc/passwd", "plan\x00.json", "plan.json" * 100, "é.json"]
)
FILE_TYPES = st.sampled_from(["application/json", "text/plain", "image/png", "application/octet-stream", "text/html"])
# How the upload is packed: one file, no file, two files, the JSON as a plain field, the JSON
# as the whole request, a file under another name, or a body that is not even multipart.
SHAPES = st.sampled_from(
    ["file", "file", "file", "none", "two files", "as field", "as json body", "wrong name", "text"]
)


@settings(FUZZ, max_examples=4 * EXAMPLES)
@given(data=st.data())
def test_the_import_upload_never_fails_and_a_refusal_saves_nothing(bench: Bench, data: st.DataObject) -> None:
    assert bench.app.config["MAX_IMPORT_BYTES"] == IMPORT_LIMIT
    shape = data.draw(SHAPES, label="shape")
    content = data.draw(CONTENTS, label="content")
    name = data.draw(FILENAMES, label="filename")
    file_type = data.draw(FILE_TYPES, label="file type")
    client, token = bench.browsers.get("owner")
    url = "/plans/import"

    def upload(body: bytes) -> FileStorage:
        return FileStorage(BytesIO(body), filename=name, content_type=file_type)

    match shape:
        case "file" | "two files":
            files = [upload(content)]
            if shape == "two files":
                files.insert(data.draw(st.integers(0, 1), label="good one first"), upload(GOOD.encode()))
            form = MultiDict([("csrf_token", token), *(("file", f) for f in files)])
            response = post_multipart(client, url, form)
        case "none":
            response = post_multipart(client, url, {"csrf_token": token})
        case "as field":
            form = {"csrf_token": token, "file": content.decode("utf-8", "replace")}
            response = post_multipart(client, url, form)
        case "wrong name":
            form = {"csrf_token": token, "upload": upload(content)}
            response = post_multipart(client, url, form)
        case "as json body":
            response = client.post(url, data=content, content_type="application/json", headers={"X-CSRFToken": token})
        case "text":
            response = client.post(url, data=content, content_type="text/plain", headers={"X-CSRFToken": token})
    check_answer(bench, bench.start.saved, response, f"import ({shape}, {file_type}, {name!r})")


# ---------------------------------------------------------------- regressions: the 500s this fuzz found


def test_a_nul_or_control_character_typed_into_a_form_is_dropped_not_a_server_error(
    web: Any, example_plan: Any
) -> None:
    """PostgreSQL refuses NUL in text (a 500 on every form, found by the fuzz above); Word
    files refuse the other control characters. They are dropped as the form is read."""
    response = web.post(f"/plans/{example_plan.id}/rename", {"title": "Our\x00 plan\x1b for\tspring"})
    assert response.status_code == 302
    with web.client.application.app_context():
        assert db.session.get(Plan, example_plan.id).title == "Our plan for\tspring"


@pytest.mark.parametrize(
    "body", ["[1, 2]", '{"title": 5}', '"a title"', "1e999", "[" * 100_000 + "]" * 100_000], ids=lambda b: b[:12]
)
def test_a_json_body_is_refused_with_415_and_a_message(web: Any, example_plan: Any, body: str) -> None:
    """No route reads JSON, but Flask-WTF took any JSON body as a form's data and crashed
    (TypeError, RecursionError) on anything but a flat object of strings."""
    url = f"/plans/{example_plan.id}/rename"
    response = web.client.post(url, data=body, content_type="application/json", headers={"X-CSRFToken": web.token()})
    assert response.status_code == 415
    assert "takes a form" in response.get_data(as_text=True)
    with web.client.application.app_context():
        assert db.session.get(Plan, example_plan.id).title == example_plan.title


def test_a_control_character_in_an_item_key_is_not_found(web: Any, example_plan: Any) -> None:
    """An item key with a NUL reached the database query (a 500 on PostgreSQL)."""
    response = web.post(f"/plans/{example_plan.id}/items/goal/g%001", {"goal-g1-statement": "Changed"})
    assert response.status_code == 404
    assert "Nothing here" in response.get_data(as_text=True)


def test_the_checks_catch_a_refusal_that_saved_something_or_said_nothing(bench: Bench) -> None:
    """The fuzz's own checks can fail: a 422 after a write, a bare 4xx, a 500."""
    client, _token = bench.browsers.get("owner")
    page = client.get("/no-such-page")  # the friendly 404 page: a message, and nothing written
    check_answer(bench, bench.start.saved, page, "404")
    bare = bench.app.response_class("", status=422, mimetype="text/html")
    with pytest.raises(AssertionError, match="no message"):
        check_answer(bench, bench.start.saved, bare, "bare 422")
    with pytest.raises(AssertionError, match="answered 500"):
        check_answer(bench, bench.start.saved, bench.app.response_class("oops", status=500), "500")
    with bench.app.app_context():
        db.session.get(Plan, bench.world.ids["plan"]["own"]).title = "Changed behind a refusal"
        db.session.commit()
    with pytest.raises(AssertionError, match="saved data changed"):
        check_answer(bench, bench.start.saved, page, "404 after a write")


def test_a_number_too_large_for_the_database_is_refused_not_a_server_error(bench: Bench) -> None:
    """Python's ints have no limit and the database's do: a huge idea number in a form, or a
    huge id in a path, overflowed the query (OverflowError on SQLite, DataError on PostgreSQL)."""
    code = bench.world.resolve("code", "own")
    participant, token = bench.browsers.get("participant")
    json_reply = {"Accept": "application/json", "X-CSRFToken": token}
    dot = participant.post(f"/workshop/{code}/dots", data={"idea": str(2**70), "change": "add"}, headers=json_reply)
    assert (dot.status_code, dot.get_json()) == (422, {"error": "idea is out of range."})
    owner, token = bench.browsers.get("owner")
    group = owner.post(f"/workshop/{code}/ideas/1/group", data={"csrf_token": token, "group": "9" * 30})
    assert group.status_code == 302  # back to the console, with the error flashed
    huge_id = owner.post(f"/plans/{2**70}/rename", data={"csrf_token": token, "title": "Renamed"})
    assert huge_id.status_code == 404
    assert snapshot(bench.app) == bench.start.saved


def test_a_version_no_form_can_have_saves_like_a_form_without_one(web: Any, example_plan: Any) -> None:
    """A base_version below what a database integer holds overflowed the conflict query."""
    url = f"/plans/{example_plan.id}/items/goal/g1"
    response = web.post(url, {"goal-g1-statement": "Saved anyway", "base_version": str(-(2**63) - 1)})
    assert response.status_code == 302
    with web.client.application.app_context():
        assert store.load_doc(db.session.get(Plan, example_plan.id))["goals"][0]["statement"] == "Saved anyway"
