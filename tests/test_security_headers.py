"""Security headers on every response, no inline script or style anywhere, and the size limit."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, url_for
from sqlalchemy import func, select

from planner import security
from planner.accounts import membership, users
from planner.accounts.models import User
from planner.domain import ENTITY_BY_NAME, STEPS
from planner.extensions import db
from planner.plans import store
from planner.plans.models import Change
from planner.workshop import access
from planner.workshop import operations as ops
from tests.conftest import Web

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def responses(anonymous: Web, web: Web, example_plan: Any) -> dict[str, Any]:
    """A page, a signed-in page, an error page, a download and a static file."""
    found = {
        "landing page": anonymous.get("/"),
        "log-in page": anonymous.get("/login"),
        "step page": web.get(f"/plans/{example_plan.id}/steps/goals"),
        "not found": web.get("/plans/999999/steps/goals"),
        "JSON download": web.get(f"/plans/{example_plan.id}/export.json"),
        "stylesheet": anonymous.get("/static/app.css"),
    }
    for response in found.values():
        response.close()  # files are sent as streams: close them, only the headers matter here
    return found


def test_content_security_policy_allows_nothing_inline_or_foreign(responses: dict[str, Any]) -> None:
    for name, response in responses.items():
        policy = dict(
            directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
        )
        assert policy == {
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        }, name


def test_browsers_must_not_guess_content_types(responses: dict[str, Any]) -> None:
    for name, response in responses.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name


def test_links_elsewhere_carry_no_path_in_the_referer(responses: dict[str, Any]) -> None:
    for name, response in responses.items():
        assert response.headers["Referrer-Policy"] == "same-origin", name


def test_pages_cannot_be_framed(responses: dict[str, Any]) -> None:
    for name, response in responses.items():
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], name


def test_strict_transport_security_only_over_https(anonymous: Web) -> None:
    assert "Strict-Transport-Security" not in anonymous.get("/").headers
    secure = anonymous.client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


# ---------------------------------------------------------------- nothing inline


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
EVENT_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_script_style_attributes_or_event_handlers() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, STYLE_ATTRIBUTE, EVENT_ATTRIBUTE):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0).strip()}" for m in pattern.finditer(text)]
    assert not found, "the Content-Security-Policy would block these:\n" + "\n".join(found)


def test_only_the_standalone_export_carries_a_style_element() -> None:
    # A file saved to disk is not served under the policy; a page on screen links its stylesheet.
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if "<style" in text:
            assert path.name == "document.html", path
            assert re.search(r"{%\s*if inline_css\s*%}\s*<style>", text), path


class Inline(HTMLParser):
    """Collects what the policy would block in a served page."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if "style" in names or any(name.startswith("on") for name in names):
            self.blocked.append(f"<{tag} {sorted(names)}>")
        if tag == "style":
            self.blocked.append("<style>")
        self._in_script = tag == "script" and "src" not in names

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.blocked.append(f"inline script: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_served_pages_have_nothing_the_policy_would_block(anonymous: Web, web: Web, example_plan: Any) -> None:
    pages = ["/", f"/plans/{example_plan.id}/members", f"/plans/{example_plan.id}/document", "/account"]
    pages += [f"/plans/{example_plan.id}/steps/{step.slug}" for step in STEPS]
    blocked = {}
    for url in pages:
        parser = Inline()
        parser.feed(web.get(url).get_data(as_text=True))
        if parser.blocked:
            blocked[url] = parser.blocked
    for url in ("/", "/login", "/signup", "/reset-password"):
        parser = Inline()
        parser.feed(anonymous.get(url).get_data(as_text=True))
        if parser.blocked:
            blocked[f"{url} (logged out)"] = parser.blocked
    assert not blocked


# ---------------------------------------------------------------- limits


def test_a_request_larger_than_the_limit_gets_413_and_a_page(app: Flask, anonymous: Web) -> None:
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = anonymous.client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than this server accepts" in page
    assert '<header class="site">' in page  # the site's own layout


def test_a_post_without_the_csrf_token_is_refused(anonymous: Web, web: Web, example_plan: Any) -> None:
    response = web.client.post(f"/plans/{example_plan.id}/members", data={"email": "x@example.org", "role": "viewer"})
    assert response.status_code == 400
    assert "The form may have expired" in response.get_data(as_text=True)
    assert anonymous.client.post("/login", data={"email": "x@example.org", "password": "x"}).status_code == 400


def test_behind_a_proxy_the_forwarded_address_and_scheme_count() -> None:
    app = Flask("proxied")
    app.config["BEHIND_PROXY"] = True
    security.init_app(app)

    @app.get("/")
    def show() -> str:
        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get("/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert response.get_data(as_text=True) == "203.0.113.9 https"
    assert "Strict-Transport-Security" in response.headers


# ---------------------------------------------------------------- who may keep a copy

PRIVATE = "private, no-store"
REVALIDATED = "private, no-cache"


@pytest.fixture
def every_argument(app: Flask, web: Web, owner: Any, example_plan: Any) -> dict[str, Any]:
    """A value naming something that exists for every argument a GET route may take, with the
    member signed in to `web` a facilitator of the plan and a participant of its workshop."""
    with app.app_context():
        plan = store.get_plan(example_plan.id)
        doc = store.load_doc(plan)
        goal = doc["goals"][0]["key"]
        store.update_item(plan, ENTITY_BY_NAME["goal"], goal, {"why": "So that there is a change"}, actor=owner)
        ws = ops.start_session(plan, owner, "goals")
        _invitation, invitation = membership.create_invitation(plan, "viewer", 7, owner)
        values = {
            "plan_id": plan.id,
            "slug": "starting-point",
            "filename": "app.css",
            "entity_name": "goal",
            "key": goal,
            "change_id": db.session.scalar(select(func.max(Change.id)).where(Change.plan_id == plan.id)),
            "code": ws.code,
            "token": {
                "members.invitation": invitation,
                "accounts.reset_password": users.reset_token(db.session.get(User, owner.id)),
            },
        }
        query = {"workshop.projector": f"?key={access.projector_key(ws)}"}
        db.session.remove()
    assert web.post(f"/join/{values['code']}").status_code in (302, 303)
    return {"values": values, "query": query}


def every_get_route(app: Flask, every_argument: dict[str, Any]) -> dict[str, str]:
    """endpoint -> a URL of it, for every GET route in the URL map."""
    urls = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()):
                continue
            values = every_argument["values"]
            args = {}
            for name in rule.arguments:
                assert name in values, f"{rule.rule}: give every_argument() a value for {name!r}"
                value = values[name]
                args[name] = value[rule.endpoint] if isinstance(value, dict) else value
            urls[rule.endpoint] = url_for(rule.endpoint, **args) + every_argument["query"].get(rule.endpoint, "")
    return urls


@pytest.fixture
def quick(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers are the question: a PDF drawn in no time, an event stream that ends at once."""
    monkeypatch.setattr("planner.documents.routes.render_pdf", lambda *args, **kwargs: b"%PDF-1.7\n", raising=False)
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 0.2)


def test_every_get_route_a_member_sees_is_kept_by_no_cache_but_theirs(
    app: Flask, web: Web, every_argument: dict[str, Any], quick: None
) -> None:
    urls = every_get_route(app, every_argument)
    assert {"wizard.step", "documents.pdf", "interchange.export_json", "accounts.account", "plans.index"} <= set(urls)
    wrong, answered = {}, 0
    for endpoint, url in sorted(urls.items()):
        response = web.get(url)
        response.close()
        assert response.status_code < 500, f"{url}: {response.status_code}"
        answered += response.status_code == 200
        found = response.headers.get("Cache-Control", "")
        if endpoint in security.SHARED_FILES:
            right = "private" not in found and "no-store" not in found  # the same for everyone
        elif "ETag" in response.headers:
            right = found == REVALIDATED  # a download the browser may keep, checked before each use
        else:
            right = found == PRIVATE
        if not right:
            wrong[f"{endpoint} {url} ({response.status_code})"] = found
    assert not wrong
    assert answered >= len(urls) - 3, "most routes answer with what they show, not a refusal"


def test_a_document_keeps_its_etag_and_the_304_that_spares_sending_it(web: Web, example_plan: Any, quick: None) -> None:
    for kind in ("pdf", "md", "docx"):
        first = web.get(f"/plans/{example_plan.id}/document.{kind}")
        first.close()
        assert first.status_code == 200 and first.headers["ETag"], kind
        assert first.headers["Cache-Control"] == REVALIDATED, kind
        again = web.get(f"/plans/{example_plan.id}/document.{kind}", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, kind
        assert again.headers["Cache-Control"] == REVALIDATED, kind


def test_exports_and_plan_pages_are_kept_nowhere(web: Web, example_plan: Any) -> None:
    for url in (f"/plans/{example_plan.id}/export.json", f"/plans/{example_plan.id}/steps/goals", "/", "/account"):
        response = web.get(url)
        response.close()
        assert response.headers["Cache-Control"] == PRIVATE, url
        assert "Expires" not in response.headers, url


def test_public_pages_and_the_apps_files_keep_their_caching(anonymous: Web, example_plan: Any) -> None:
    for url in ("/", "/login", "/signup", "/reset-password", "/join", "/static/app.css", "/favicon.ico"):
        response = anonymous.get(url)
        response.close()
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        assert "private" not in response.headers.get("Cache-Control", ""), url
    # A plan's address, asked by nobody, is sent to the log-in page: that answer is no one's to keep either.
    refused = anonymous.get(f"/plans/{example_plan.id}/steps/goals")
    assert refused.status_code == 302 and refused.headers["Cache-Control"] == PRIVATE


def test_a_workshop_guest_without_an_account_gets_the_room_kept_nowhere(
    anonymous: Web, every_argument: dict[str, Any]
) -> None:
    code = every_argument["values"]["code"]
    assert anonymous.post(f"/join/{code}", {"name": "Gus"}).status_code in (302, 303)
    for url in (f"/workshop/{code}", f"/workshop/{code}/state", f"/join/{code}"):
        response = anonymous.get(url)
        assert response.headers["Cache-Control"] == PRIVATE, url


def test_the_public_pages_shown_to_someone_signed_in_are_theirs(web: Web) -> None:
    for url in ("/", "/join"):
        response = web.get(url)
        assert response.headers["Cache-Control"] == PRIVATE, url


# ---------------------------------------------------------------- what the browser keeps


def test_logging_out_asks_the_browser_to_forget_what_it_kept(web: Web) -> None:
    response = web.post("/logout")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_a_forged_log_out_clears_nothing(web: Web, anonymous: Web) -> None:
    # Another site's form has no CSRF token: refused, and it may not wipe anyone's drafts either.
    forged = web.client.post("/logout")
    assert forged.status_code == 400
    assert "Clear-Site-Data" not in forged.headers
    assert "Clear-Site-Data" not in web.get("/").headers
    assert "Clear-Site-Data" not in anonymous.get("/login").headers


ACCOUNT_KEY = re.compile(r'<body[^>]*\sdata-account="([0-9a-f]+)"')


def test_each_account_has_an_opaque_key_for_what_its_browser_keeps(
    web: Web, as_user: Any, anonymous: Web, owner: Any, ana: Any, example_plan: Any
) -> None:
    mine = {ACCOUNT_KEY.search(web.get(url).get_data(as_text=True)).group(1) for url in ("/", "/account")}
    assert len(mine) == 1, "one key on every page of an account"
    (key,) = mine
    theirs = ACCOUNT_KEY.search(as_user(ana).get("/").get_data(as_text=True)).group(1)
    assert theirs != key
    assert len(key) >= 16 and owner.email not in key and key != str(owner.id)
    assert "data-account" not in anonymous.get("/login").get_data(as_text=True)
    assert "data-logout" in web.get("/").get_data(as_text=True)
