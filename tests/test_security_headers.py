"""Security headers on every response, no inline script or style anywhere, and the size limit."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from planner import security
from planner.domain import STEPS
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
