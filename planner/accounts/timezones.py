"""Times as the reader reads them: in their own time zone, not the server's UTC.

Every stored time is naive UTC (`planner.models.utcnow`). Pages show one through the `when`
filter, which draws ``<time datetime="2026-12-03T09:11Z" data-when="datetime">`` around a
readable text. Two things then move that text into the reader's zone:

- `static/app.js` rewrites every such element with the browser's `Intl.DateTimeFormat`, in
  the reader's zone and language, and remembers the zone in the `tz` cookie;
- on later pages the server reads that cookie (`reader_zone`) and draws the text in the zone
  already, so that a reader whose script does not run still sees their own time. Without the
  cookie, or with a zone `zoneinfo` does not know, the text is UTC and says so.

The cookie holds an IANA name ("America/Vancouver") and nothing else; an unknown name is
ignored, never looked up on disk (`zoneinfo` keys are only compared with the known set).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, has_request_context, request
from markupsafe import Markup, escape

COOKIE = "tz"
Form = Literal["datetime", "time", "day"]
# How the server writes each form when the browser's script has not (yet) rewritten it.
_FORMATS: dict[str, str] = {"datetime": "%-d %b %Y, %H:%M", "time": "%H:%M", "day": "%A %-d %B %Y"}


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone with this IANA name, or None when there is no such zone."""
    if not name or len(name) > 64 or name not in known_zones():
        return None
    return ZoneInfo(name)


def reader_zone_name() -> str | None:
    """The reader's zone as their browser told it (the `tz` cookie), if it is a real zone."""
    if not has_request_context():
        return None
    name = request.cookies.get(COOKIE)
    return name if zone_named(name) is not None else None


def reader_zone() -> ZoneInfo | None:
    return zone_named(reader_zone_name())


def in_reader_zone(moment: datetime) -> datetime:
    """A stored time (naive UTC, or aware) as an aware time in the reader's zone, else UTC."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    zone = reader_zone()
    return aware.astimezone(zone) if zone else aware


def reader_day(moment: datetime) -> date:
    """The reader's calendar day of a moment: history groups changes by it."""
    return in_reader_zone(moment).date()


def reader_text(moment: datetime | None, form: Form = "datetime") -> str:
    """Plain text of a moment in the reader's zone, with the zone's abbreviation ("14:32 PST",
    "28 Nov 2026, 14:32 UTC"); a day is a day and needs none."""
    if moment is None:
        return ""
    local = in_reader_zone(moment)
    text = local.strftime(_FORMATS[form])
    return text if form == "day" else f"{text} {local.tzname()}"


def when(moment: datetime | None, form: Form = "datetime") -> Markup:
    """The one way a page shows a time: a `<time>` element whose `datetime` is the moment in
    UTC (ISO 8601) for the script to rewrite, and whose text is `reader_text`."""
    if moment is None:
        return Markup("")
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    iso = aware.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}" data-when="{}">{}</time>').format(iso, form, escape(reader_text(moment, form)))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["reader_day"] = reader_day
