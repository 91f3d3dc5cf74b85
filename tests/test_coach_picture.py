"""The coach's picture: well-formed, accessible SVG 1.1 that escapes the plan's own words
and renders through WeasyPrint."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from planner.coach import coach_report, picture_svg
from tests.test_coach import make_plan, practice, segment, strong_plan

NS = "{http://www.w3.org/2000/svg}"
# Plain SVG 1.1 that both a browser and WeasyPrint draw the same way.
ALLOWED = {"svg", "title", "desc", "g", "rect", "line", "circle", "text"}
HOSTILE_TITLE = '"><svg onload=alert(1)>'
HOSTILE_NAME = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def tags(root: ET.Element) -> set[str]:
    return {el.tag.removeprefix(NS) for el in root.iter()}


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{NS}text")]


def hostile_plan() -> dict:
    plan = strong_plan()
    plan["title"] = HOSTILE_TITLE
    plan["segments"].append(segment("s3", HOSTILE_NAME))
    plan["practices"].append(practice("pr9", "broadcast", 3, description=f"{HOSTILE_TITLE}{HOSTILE_NAME}"))
    return plan


def test_the_picture_is_well_formed_svg_with_explicit_size():
    root = parse(picture_svg(coach_report(strong_plan())))
    width, height = int(root.get("width", "0")), int(root.get("height", "0"))
    assert width > 0 and height > 0
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert root.get("font-family") == "Noto Sans, sans-serif"
    assert tags(root) <= ALLOWED
    assert not any(a in ("class", "style", "href") or a.endswith("}href") for el in root.iter() for a in el.attrib)


def test_the_picture_is_accessible():
    report = coach_report(strong_plan())
    root = parse(picture_svg(report, id_prefix="pic"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "pic-title pic-desc"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.get("id") == "pic-title"
    assert desc is not None and desc.get("id") == "pic-desc"
    assert "Eastside Tool Library" in (title.text or "")
    assert f"Score {report.score} out of 100." in (desc.text or "")
    assert "Listen first: pass." in (desc.text or "")


def test_the_plans_own_words_are_escaped():
    svg = picture_svg(coach_report(hostile_plan()))
    root = parse(svg)
    assert "<script" not in svg
    assert "<svg onload" not in svg
    assert svg.count("<svg") == 1
    assert "script" not in tags(root)
    assert not any(a.lower().startswith("on") for el in root.iter() for a in el.attrib)
    # The words are still there, as text: escaped, not dropped.
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and HOSTILE_TITLE in (title.text or "")
    assert desc is not None
    # The description gives each check's word, not its message: the page says the message once, after.
    assert "has no listening target" not in (desc.text or "")
    assert "Listen first: warn." in (desc.text or "")


def test_every_check_shows_with_a_word_not_only_a_colour():
    report = coach_report(make_plan(staff_access="open", review_cadence="yearly"))
    shown = texts(parse(picture_svg(report)))
    for finding in report.checks:
        assert finding.title in shown
    assert shown.count("Pass") == 1
    assert shown.count("Warn") == report.counts["warn"]
    assert shown.count("Fail") == report.counts["fail"]
    assert f"The 14 checks: 1 pass, {report.counts['warn']} warn, {report.counts['fail']} fail" in shown


def test_the_picture_shows_hours_by_mode_and_where_the_plan_sits():
    shown = texts(parse(picture_svg(coach_report(strong_plan()))))
    assert {"Broadcast 2 h", "Listen 2 h", "Respond 4 h", "Amplify 2 h"} <= set(shown)
    assert "This plan: 80%" in shown
    assert {"Broadcast", "Conversation", "Goal 60%"} <= set(shown)


def test_an_empty_plan_draws_without_hours():
    root = parse(picture_svg(coach_report(make_plan())))
    shown = texts(root)
    assert "No hours yet" in shown
    assert not any(t.startswith("This plan:") for t in shown)
    title = root.find(f"{NS}title")
    assert title is not None and title.text == "Where the plan stands between broadcast and conversation"


def test_practices_without_a_mode_show_as_such():
    plan = make_plan(practices=[practice("pr1", "respond", 3), practice("pr2", None, 2)])
    assert "Mode not set 2 h" in texts(parse(picture_svg(coach_report(plan))))


@pytest.mark.pdf
def test_weasyprint_renders_the_picture(tmp_path: Path):
    weasyprint = pytest.importorskip("weasyprint")
    svg = picture_svg(coach_report(hostile_plan()))
    pdf = weasyprint.HTML(string=f"<html><body>{svg}</body></html>").write_pdf()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        return
    (tmp_path / "coach.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "coach.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Broadcast or conversation?" in text
    assert "Two-way, not broadcast" in text
    assert "alert" not in text  # the title and description are not drawn
