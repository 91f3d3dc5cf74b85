"""The small things every page, message and document says the same way, each written once:
a name shortened, a list joined, hours, and the characters no plan may hold.

Nothing here knows about plans; every layer may read it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# ---------------------------------------------------------------- characters

# What no plan holds and no document may print: C0 controls other than tab and line breaks
# (PostgreSQL refuses NUL in text, Word files and XML 1.0 the rest), DEL, lone surrogates
# (which UTF-8 cannot store) and U+FFFE/U+FFFF (not characters at all).  The import refuses
# them (`planner.interchange.validate`), forms and query strings drop them as they are read
# (`planner.security`), and every document leaves them out (`printable`).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def one_line_ends(text: str) -> str:
    """`text` with Windows and old Mac line ends made "\\n", as a browser counts a text
    area's `maxlength` and as the import stores it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def printable(text: Any) -> str:
    """`text` as a string, with "\\n" line ends and without `UNPRINTABLE` characters."""
    return UNPRINTABLE.sub("", one_line_ends(str(text)))


# ---------------------------------------------------------------- words


def shorten(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters: cut at the last word that fits, with an
    ellipsis, never inside a word (unless the first word alone is too long), and with its case
    as written.  The one shortener: the coach, the document, the history and the workshop read it."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-\N{EN DASH}\N{EM DASH}") + "…"


def joined(parts: Sequence[str], *, more: int = 0, serial: bool = False) -> str:
    """ "A", "A and B", "A, B and C"; with `more`, "A, B and 2 more".  `serial` puts a comma
    before the "and" ("A, and B"), for parts that hold commas of their own."""
    parts = [*parts, f"{more} more"] if more else list(parts)
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + (", and " if serial else " and ") + parts[-1]


def counted(n: int, one: str, many: str | None = None) -> str:
    """A number with its noun as people write it: "1 dot", "2 dots", "1 person", "3 people"."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------- hours


def hours_of(value: Any) -> float | None:
    """Hours per week as a number, or None when unset (or not a number at all)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def hours_text(value: Any, *, unset: str = "") -> str:
    """5 -> "5 h", 4.5 -> "4.5 h", 1/3 -> "0.33 h" (two decimals at most); `unset` (by default
    nothing) for a value that is not a number of hours.  The one hours formatter: the coach,
    the wizard and every export read it."""
    hours = hours_of(value)
    if hours is None:
        return unset
    return f"{round(hours, 2):g} h"
