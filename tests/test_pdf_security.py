"""Nothing a user typed can make the PDF renderer read a file or reach the network.

Two walls: templates escape every answer, so hostile text stays text; and WeasyPrint's URL
fetcher serves the app's own static assets and refuses everything else, so even markup that
got through could load nothing.  Both are tested here, each on its own.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from pypdf import PdfReader

from planner.documents.fetcher import ASSET_BASE, AssetFetcher, AssetRefused
from planner.documents.render import html_to_pdf, render_pdf
from planner.domain import ENTITIES, PLAN_FIELDS, Field, Kind
from planner.plans import store
from tests.test_document import filled_doc, pdf_text, squeezed

# What someone might type to make a renderer fetch a file or a URL. Each is under the
# shortest text limit, so every text field of a plan can hold any of them.
HOSTILE = (
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    "url(http://127.0.0.1:9/)",
    "<style>@import url(http://127.0.0.1:9/x.css)</style>",
    "<script>document.write('pwned')</script>",
    "body { background: url(file:///etc/passwd) }",
    '<a rel="attachment" href="http://127.0.0.1:9/a.txt">x</a>',
    "<base href=http://127.0.0.1:9/><img src=y.png>",
    '"><svg><image href="file:///etc/hostname"/></svg>',
    "@font-face{font-family:x;src:url(http://127.0.0.1:9/f.woff)}",
)
TEXT_KINDS = (Kind.TEXT, Kind.LONGTEXT, Kind.LIST)
DOCUMENT_TAGS = {
    *("html", "head", "meta", "title", "link", "script", "body", "nav", "main", "section", "article"),
    *("h1", "h2", "h3", "h4", "p", "br", "a", "span", "button", "dl", "div", "dt", "dd", "ul", "ol", "li"),
    *("table", "thead", "tbody", "tfoot", "tr", "th", "td"),
    # The coach's picture, inline: ElementTree builds it and escapes every word in it.
    *("svg", "desc", "g", "rect", "line", "circle", "text"),
}
# A 1x1 PNG, to show that even a data: image is refused.
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="


class Tags(HTMLParser):
    """Collects every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))


def hostile_doc() -> dict[str, Any]:
    """A filled plan whose every text field, list entry and paragraph is hostile."""
    doc = filled_doc()
    counter = iter(range(10_000))

    def poison(field: Field) -> Any:
        if field.kind is Kind.LIST:
            return list(HOSTILE)
        if field.kind is Kind.LONGTEXT:
            return "\n\n".join(HOSTILE)
        return HOSTILE[next(counter) % len(HOSTILE)]

    for f in PLAN_FIELDS:
        if f.kind in TEXT_KINDS:
            doc[f.name] = poison(f)
    for entity in ENTITIES:
        for item in doc[entity.collection]:
            for f in entity.fields:
                if f.kind in TEXT_KINDS:
                    item[f.name] = poison(f)
    return doc


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (and answers with a redirect to a file)."""
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ------------------------------------------------------------ hostile answers stay text


def test_hostile_answers_are_escaped_on_the_page(client: FlaskClient, ctx: Flask, owner: Any, add_member: Any) -> None:
    plan = store.create_from_doc(hostile_doc())
    add_member(plan, owner)
    html = client.get(f"/plans/{plan.id}/document").get_data(as_text=True)
    for payload in HOSTILE:
        if "<" in payload:
            assert payload not in html
        assert str(escape(payload)) in html
    tags = Tags()
    tags.feed(html)
    # Only the document's own elements: nothing that loads, embeds or styles.
    assert {tag for tag, _ in tags.seen} <= DOCUMENT_TAGS
    for tag, attrs in tags.seen:
        if tag == "link":
            assert attrs == {"rel": "stylesheet", "href": "/static/print.css"}
        if tag == "script":
            assert attrs == {"src": "/static/document.js", "defer": None}
        if tag == "a":
            assert str(attrs["href"]).startswith(("/plans/", "#")), attrs
        assert not {"style", "src", "rel"} & set(attrs) or tag in ("link", "script")


@pytest.mark.pdf
def test_hostile_answers_print_as_text_and_fetch_nothing(
    client: FlaskClient, ctx: Flask, fetched: list[str], owner: Any, add_member: Any
) -> None:
    plan = store.create_from_doc(hostile_doc())
    add_member(plan, owner)
    response = client.get(f"/plans/{plan.id}/document.pdf")
    assert response.status_code == 200

    assert set(fetched) == {ASSET_BASE + "print.css"}
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.attachments == {}
    text = squeezed(pdf_text(response.data))
    for payload in HOSTILE:
        assert squeezed(payload) in text, payload
    assert "root:" not in text


# ------------------------------------------------------------ the fetcher is the second wall


@pytest.mark.pdf
def test_markup_that_got_through_still_loads_nothing(
    ctx: Flask, fetched: list[str], listener: tuple[str, list[str]]
) -> None:
    url, requests = listener
    page = f"""<!doctype html><meta charset="utf-8">
    <link rel="stylesheet" href="{url}/style.css">
    <link rel="stylesheet" href="file:///etc/passwd">
    <style>@import url({url}/import.css); @font-face {{ font-family: x; src: url({url}/f.woff) }}
      body {{ background: url(file:///etc/passwd); font-family: x }}</style>
    <p>Visible text</p>
    <img src="file:///etc/passwd"><img src="{url}/i.png"><img src="../config.py">
    <img src="data:image/png;base64,{PIXEL}">
    <link rel="attachment" href="file:///etc/passwd"><a rel="attachment" href="{url}/a.txt">a</a>
    <object data="{url}/o.html"></object><embed src="{url}/e.svg"><iframe src="{url}/f.html"></iframe>
    <svg><image href="file:///etc/hostname" width="10" height="10"/></svg>"""
    pdf = html_to_pdf(page)

    assert requests == []  # nothing reached the network, not even the local listener
    refused = [u for u in fetched if not u.startswith(ASSET_BASE)]
    assert any(u.startswith("file:") for u in refused)
    assert any(u.startswith(url) for u in refused)
    assert any(u.startswith("data:") for u in refused)
    assert "https://planner.invalid/config.py" in refused  # "../config.py", joined to the base
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert all(not page.images for page in reader.pages)
    text = pdf_text(pdf)
    assert "Visible text" in text and "root:" not in text


@pytest.mark.pdf
def test_a_base_element_cannot_point_the_renderer_elsewhere(
    ctx: Flask, fetched: list[str], listener: tuple[str, list[str]]
) -> None:
    url, requests = listener
    html_to_pdf(f'<base href="{url}/"><link rel="stylesheet" href="print.css"><img src="x.png"><p>x</p>')
    assert requests == []
    assert fetched and all(u.startswith(url) for u in fetched)


@pytest.fixture
def fetcher(app: Flask) -> AssetFetcher:
    return AssetFetcher(app.static_folder or "")


def test_the_fetcher_serves_the_document_stylesheet(fetcher: AssetFetcher) -> None:
    response = fetcher(ASSET_BASE + "print.css")
    try:
        assert response.content_type == "text/css"
        assert response.charset == "utf-8"
        assert b"@page" in response.read()
    finally:
        response.close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://127.0.0.1:9/static/print.css",
        "http://planner.invalid/static/print.css",
        "ftp://planner.invalid/static/print.css",
        "data:text/css,body{background:red}",
        "data:image/png;base64,iVBORw0KGgo=",
        "https://planner.invalid/static/../config.py",
        "https://planner.invalid/static/%2e%2e/config.py",
        "https://planner.invalid/static/..%2fconfig.py",
        "https://planner.invalid/static/..%5cconfig.py",
        "https://planner.invalid/static/./print.css",
        "https://planner.invalid/static//etc/passwd.css",
        "https://planner.invalid/static/%2fetc%2fpasswd",
        "https://planner.invalid/config.py",
        "https://planner.invalid/print.css",
        "https://planner.invalid@127.0.0.1:9/static/print.css",
        "https://planner.invalid:443/static/print.css",
        "https://planner.invalid.example.com/static/print.css",
        "https://planner.invalid/static/print.css?x=1",
        "https://planner.invalid/static/print.css#x",
        "https://planner.invalid/static/print.css%00.png",
        "https://planner.invalid/static/document.js",
        "https://planner.invalid/static/missing.css",
        "https://planner.invalid/static/",
        "not a url at all",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_asset(fetcher: AssetFetcher, url: str) -> None:
    with pytest.raises(AssetRefused):
        fetcher(url)


def test_the_fetcher_refuses_symlinks_that_leave_the_static_folder(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("p { color: black }")
    secret = tmp_path / "secret.css"
    secret.write_text("secret")
    (static / "inside.css").symlink_to(static / "ok.css")
    (static / "outside.css").symlink_to(secret)
    (static / "fonts").symlink_to(tmp_path)
    fetcher = AssetFetcher(static)

    for name in ("ok.css", "inside.css"):
        response = fetcher(ASSET_BASE + name)
        assert response.read() == b"p { color: black }"
        response.close()
    for name in ("outside.css", "fonts/secret.css"):
        with pytest.raises(AssetRefused):
            fetcher(ASSET_BASE + name)


def test_the_pdf_base_url_is_internal() -> None:
    assert ASSET_BASE == "https://planner.invalid/static/"  # .invalid never resolves (RFC 2606)


@pytest.mark.pdf
def test_a_plan_renders_with_only_its_stylesheet_fetched(ctx: Flask, fetched: list[str]) -> None:
    render_pdf(filled_doc(items_per_kind=1))
    assert fetched == [ASSET_BASE + "print.css"]
