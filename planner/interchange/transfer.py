"""Export and import: plan documents between the database and JSON.

Export wraps `store.load_doc` in the interchange envelope.  Import validates the whole
document first (`planner.interchange.validate`) and only then writes it, in one transaction
(`store.create_from_doc`): an import takes the whole plan or nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from flask import current_app

from planner.domain import FORMAT_NAME, FORMAT_VERSION
from planner.interchange.validate import DocumentRefused, Problem, parse_document, validate_document
from planner.plans import store


class ImportRefused(DocumentRefused):
    """An import was refused and nothing was written. `problems` says what and where."""


def wrap(plan_doc: dict[str, Any]) -> dict[str, Any]:
    """The interchange document around a plan dict."""
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "plan": plan_doc}


def export_document(plan: Any) -> dict[str, Any]:
    """The interchange document of a stored plan."""
    return wrap(store.load_doc(plan))


def dumps(document: dict[str, Any]) -> str:
    """A document as the JSON text Planner writes: UTF-8 friendly, indented, one final newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def max_import_bytes() -> int:
    return int(current_app.config["MAX_IMPORT_BYTES"])


def import_data(document: Any, actor: Any = None, *, owner: Any = None) -> Any:
    """Create a plan from an already parsed document, with `owner` as its facilitator; raises
    `ImportRefused`."""
    try:
        plan_doc = validate_document(document)
    except DocumentRefused as exc:
        raise ImportRefused(exc.problems) from None
    try:
        return store.create_from_doc(plan_doc, actor, owner=owner)
    except ValueError as exc:  # pragma: no cover  (validation should have caught it)
        # The store re-checks references; if it ever disagrees with the validator, the
        # transaction is already rolled back and the user still gets a refusal, not a crash.
        raise ImportRefused([Problem("plan", str(exc))]) from exc


def import_document(raw: bytes | str, actor: Any = None, *, max_bytes: int | None = None, owner: Any = None) -> Any:
    """Create a plan from untrusted JSON bytes; raises `ImportRefused` and writes nothing.

    `max_bytes` defaults to the app's MAX_IMPORT_BYTES.
    """
    limit = max_import_bytes() if max_bytes is None else max_bytes
    try:
        document = parse_document(raw, max_bytes=limit)
    except DocumentRefused as exc:
        raise ImportRefused(exc.problems) from None
    return import_data(document, actor, owner=owner)


def slugify(text: str, *, fallback: str = "plan") -> str:
    """A file-name-safe slug: "Eastside Tool Library: our plan" -> "eastside-tool-library-our-plan"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return slug or fallback


def export_filename(plan: Any, extension: str) -> str:
    return f"{slugify(plan.title or '')}.{extension}"
