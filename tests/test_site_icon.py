"""The site's icon: an SVG of Planner's own, linked from every page, and /favicon.ico."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.conftest import Web


def test_every_page_links_the_icon_and_the_icon_is_an_svg(anonymous: Web) -> None:
    page = anonymous.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = anonymous.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(icon.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 32 32"
    icon.close()


def test_favicon_ico_answers_with_the_icon_instead_of_a_404(anonymous: Web) -> None:
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    static = anonymous.get("/static/favicon.svg")
    assert response.get_data() == static.get_data()
    response.close()
    static.close()
