"""The coach's picture: an SVG of where a plan sits between broadcast and conversation.

It shows three things: a spectrum from "Broadcast" to "Conversation" with the plan's share of
social hours marked against the goal, the practice hours by mode as a stacked bar, and the
fourteen checks at a glance.

The SVG is built with ElementTree, so every piece of text, the plan's own words included, is
escaped by the serializer and never spliced into markup.  It keeps to plain SVG 1.1 (rect, line,
circle, text, g) with explicit sizes and inline presentation attributes, because it must render
the same in a browser and in WeasyPrint, which reads no external stylesheet.  Colours come from
the Okabe-Ito palette, which stays distinct for the common kinds of colour blindness, and every
colour also carries a word or a shape, so nothing is said by colour alone.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.coach import rules
from planner.coach.checks import BROADCAST, MODES, UNSET_MODE, Status, percent_text
from planner.coach.fields import PRACTICE_MODE
from planner.coach.report import Report
from planner.text import hours_text

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "Noto Sans, sans-serif"
WIDTH = 640  # fits an A4 page inside 2 cm margins at 96 px to the inch, so the PDF needs no scaling
MARGIN = 24
INNER = WIDTH - 2 * MARGIN
INK = "#1a1a1a"
MUTED = "#4d4d4d"

# Okabe-Ito colours; the bar's labels and legend name each mode as well.
MODE_COLOURS = {
    "listen": "#56B4E9",
    "respond": "#0072B2",
    "amplify": "#009E73",
    "host": "#F0E442",
    "collaborate": "#CC79A7",
    "enable": "#E69F00",
    BROADCAST: "#D55E00",
    UNSET_MODE: "#BBBBBB",
}
_uncoloured = {*MODES, UNSET_MODE} - set(MODE_COLOURS)
if _uncoloured:  # a mode added to or renamed in the declaration needs its colour here
    raise KeyError(f"the coach's picture has no colour for the modes {sorted(_uncoloured)}")
# Black text reads on every fill above except the dark blue.
DARK_FILLS = frozenset({"#0072B2"})
STATUS_COLOURS = {Status.PASS: "#009E73", Status.WARN: "#E69F00", Status.FAIL: "#D55E00"}
STATUS_WORDS = {Status.PASS: "Pass", Status.WARN: "Warn", Status.FAIL: "Fail"}
# The spectrum's zones follow the thresholds of the two_way check.
ZONES = (
    (0.0, rules.SOCIAL_SHARE_FAIL_BELOW, "#F7D3BF", "Mostly broadcast"),
    (rules.SOCIAL_SHARE_FAIL_BELOW, rules.SOCIAL_SHARE_PASS, "#FBE6BD", "Mixed"),
    (rules.SOCIAL_SHARE_PASS, 1.0, "#C7EADB", "Mostly conversation"),
)
# Broadcast sits at the left, next to the spectrum's "Broadcast" end; conversation to the right.
BAR_ORDER = (BROADCAST, UNSET_MODE, *(m for m in MODES if m != BROADCAST))


def _mode_label(mode: str) -> str:
    if mode == UNSET_MODE:
        return "Mode not set"
    return PRACTICE_MODE.choice_label(mode)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text_width(text: str, size: float) -> float:
    """A generous estimate of a label's width in Noto Sans, to decide whether it fits."""
    return len(text) * size * 0.6


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: float | str) -> ET.Element:
    """A child element; attribute names use _ for - (font_size -> font-size)."""
    names = {k.rstrip("_").replace("_", "-"): _num(v) if isinstance(v, float) else str(v) for k, v in attrs.items()}
    element = ET.SubElement(parent, tag, names)
    if text is not None:
        element.text = text
    return element


def _label(parent: ET.Element, x: float, y: float, text: str, *, size: float = 12, **attrs: float | str) -> ET.Element:
    attrs.setdefault("fill", INK)
    return _el(parent, "text", text, x=float(x), y=float(y), font_size=float(size), **attrs)


def _summary(report: Report) -> str:
    share = report.balance.social_share
    goal = percent_text(rules.SOCIAL_SHARE_PASS)
    if share is None:
        return f"No practice hours yet. The goal is at least {goal} of practice hours in conversation."
    return f"{percent_text(share)} of practice hours go to conversation. The goal is at least {goal}."


def _spectrum(svg: ET.Element, report: Report, top: float) -> float:
    """The spectrum from Broadcast to Conversation, with the plan's marker; returns its bottom."""
    g = _el(svg, "g")
    band_y, band_h = top + 24, 20.0
    for start, end, colour, name in ZONES:
        x = MARGIN + start * INNER
        w = (end - start) * INNER
        _el(g, "rect", x=x, y=band_y, width=w, height=band_h, fill=colour)
        _label(g, x + w / 2, band_y + 14, name, size=10, text_anchor="middle", fill=MUTED)
    _el(g, "rect", x=float(MARGIN), y=band_y, width=float(INNER), height=band_h, fill="none", stroke=MUTED)

    goal_x = MARGIN + rules.SOCIAL_SHARE_PASS * INNER
    _el(g, "line", x1=goal_x, y1=band_y - 4, x2=goal_x, y2=band_y + band_h + 4, stroke=INK, stroke_width=2.0)
    below = band_y + band_h + 16
    _label(g, float(MARGIN), below, "Broadcast", font_weight="bold")
    _label(g, float(WIDTH - MARGIN), below, "Conversation", font_weight="bold", text_anchor="end")
    _label(g, goal_x, below, f"Goal {percent_text(rules.SOCIAL_SHARE_PASS)}", text_anchor="middle")

    share = report.balance.social_share
    if share is not None:
        x = MARGIN + share * INNER
        # The pin stops at the band's edge so that it never covers the zone names.
        _el(g, "line", x1=x, y1=band_y - 8, x2=x, y2=band_y, stroke="#0072B2", stroke_width=2.0)
        _el(g, "circle", cx=x, cy=band_y - 8, r=5.0, fill="#0072B2")
        label = f"This plan: {percent_text(share)}"
        half = _text_width(label, 12) / 2
        label_x = min(max(x, MARGIN + half), WIDTH - MARGIN - half)
        _label(g, label_x, band_y - 18, label, text_anchor="middle", font_weight="bold")
    return below + 6


def _hours_bar(svg: ET.Element, report: Report, top: float) -> float:
    """Practice hours by mode as one stacked bar with a legend; returns its bottom."""
    g = _el(svg, "g")
    _label(g, float(MARGIN), top + 14, "Practice hours a week, by mode", size=13, font_weight="bold")
    bar_y, bar_h = top + 24, 26.0
    hours = report.balance.hours_by_mode
    total = report.balance.total_hours
    shown = [(m, hours.get(m, 0.0)) for m in BAR_ORDER if hours.get(m, 0.0) > 0]
    if total <= 0:
        _el(g, "rect", x=float(MARGIN), y=bar_y, width=float(INNER), height=bar_h, fill="#f2f2f2", stroke=MUTED)
        _label(g, WIDTH / 2, bar_y + 17, "No hours yet", text_anchor="middle", fill=MUTED)
        return bar_y + bar_h + 8

    x = float(MARGIN)
    for mode, h in shown:
        w = h / total * INNER
        colour = MODE_COLOURS[mode]
        _el(g, "rect", x=x, y=bar_y, width=w, height=bar_h, fill=colour, stroke="#ffffff", stroke_width=1.0)
        name = _mode_label(mode)
        if _text_width(name, 11) + 8 < w:
            ink = "#ffffff" if colour in DARK_FILLS else "#000000"
            _label(g, x + w / 2, bar_y + 17, name, size=11, text_anchor="middle", fill=ink)
        x += w
    _el(g, "rect", x=float(MARGIN), y=bar_y, width=float(INNER), height=bar_h, fill="none", stroke=MUTED)

    # The legend names every mode with its hours, so the bar never relies on colour.
    lx, ly = float(MARGIN), bar_y + bar_h + 22
    for mode, h in shown:
        text = f"{_mode_label(mode)} {hours_text(h)}"
        width = 18 + _text_width(text, 12) + 18
        if lx + width > WIDTH - MARGIN and lx > MARGIN:
            lx, ly = float(MARGIN), ly + 20
        _el(g, "rect", x=lx, y=ly - 11, width=12.0, height=12.0, fill=MODE_COLOURS[mode], stroke=MUTED)
        _label(g, lx + 18, ly, text)
        lx += width
    return ly + 6


def _mark(parent: ET.Element, status: Status, cx: float, cy: float) -> None:
    """A status mark whose shape differs too: a dot passes, a ring warns, a square fails."""
    colour = STATUS_COLOURS[status]
    if status is Status.PASS:
        _el(parent, "circle", cx=cx, cy=cy, r=6.0, fill=colour)
    elif status is Status.WARN:
        _el(parent, "circle", cx=cx, cy=cy, r=5.0, fill="#ffffff", stroke=colour, stroke_width=3.0)
    else:
        _el(parent, "rect", x=cx - 6, y=cy - 6, width=12.0, height=12.0, fill=colour)


def _checks(svg: ET.Element, report: Report, top: float) -> float:
    """The checks in two columns, each with its mark, status word and title; returns the bottom."""
    g = _el(svg, "g")
    counts = report.counts
    heading = f"The {len(report.checks)} checks: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail"
    _label(g, float(MARGIN), top + 14, heading, size=13, font_weight="bold")
    rows = (len(report.checks) + 1) // 2
    column_w = INNER / 2
    first_y = top + 38
    for i, finding in enumerate(report.checks):
        column, row = divmod(i, rows)
        x = MARGIN + column * column_w
        y = first_y + row * 22
        _mark(g, finding.status, x + 7, y - 4)
        _label(g, x + 20, y, STATUS_WORDS[finding.status], font_weight="bold")
        _label(g, x + 58, y, finding.title)
    return first_y + (rows - 1) * 22 + 10


def picture_svg(report: Report, *, id_prefix: str = "coach") -> str:
    """The picture as an SVG document string, ready to inline in HTML or hand to WeasyPrint.

    `id_prefix` keeps the ids of the title and description unique if a page shows two pictures.
    """
    plan = report.plan_title.strip() or "the plan"
    title = f"Where {plan} stands between broadcast and conversation"
    desc = " ".join(
        [
            f"Score {report.score} out of 100.",
            _summary(report),
            # Each check's word only: its message follows the picture on every page that shows it,
            # and a screen reader should not hear each finding twice.
            *(f"{f.title}: {STATUS_WORDS[f.status].lower()}." for f in report.checks),
        ]
    )
    svg = ET.Element("svg", {"xmlns": SVG_NS, "version": "1.1", "role": "img"})
    svg.set("aria-labelledby", f"{id_prefix}-title {id_prefix}-desc")
    _el(svg, "title", title, id=f"{id_prefix}-title")
    _el(svg, "desc", desc, id=f"{id_prefix}-desc")
    background = _el(svg, "rect", x=0.0, y=0.0, width=float(WIDTH), fill="#ffffff")

    _label(svg, float(MARGIN), 30.0, "Broadcast or conversation?", size=18, font_weight="bold")
    _label(
        svg, float(WIDTH - MARGIN), 30.0, f"Score {report.score} / 100", size=18, font_weight="bold", text_anchor="end"
    )
    _label(svg, float(MARGIN), 52.0, _summary(report), fill=MUTED)
    bottom = _spectrum(svg, report, 66.0)
    bottom = _hours_bar(svg, report, bottom + 14)
    bottom = _checks(svg, report, bottom + 16)

    height = round(bottom + MARGIN / 2)
    background.set("height", str(height))
    svg.set("width", str(WIDTH))
    svg.set("height", str(height))
    svg.set("viewBox", f"0 0 {WIDTH} {height}")
    svg.set("font-family", FONT)
    return ET.tostring(svg, encoding="unicode")
