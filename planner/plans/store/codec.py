"""The value codec: a field's value as its column holds it (`stored`) and as the JSON format
writes it (`plain`). Forms and documents send values in the JSON shape; `plain_value` gives
what such a value reads as once saved, so what someone sent can be compared with what is saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from planner.domain import Field, Kind


def plain(field: Field, value: Any) -> Any:
    """A stored value as the JSON format writes it."""
    if value is None:
        return field.empty()
    if field.kind is Kind.DATE:
        return value.isoformat()
    if field.kind is Kind.NUMBER:
        return int(value) if float(value).is_integer() else float(value)
    if field.is_list:
        return list(value)
    return value


def plain_value(field: Field, value: Any) -> Any:
    """A value from a form or a document as the JSON format writes it once saved, so that
    what someone sent can be compared with what is saved."""
    if field.kind is Kind.REF_LIST:
        return list(dict.fromkeys(value or []))
    if field.kind is Kind.REF:
        return value or None
    return plain(field, stored(field, value))


def stored(field: Field, value: Any) -> Any:
    """A value from a form or a validated document, as the column wants it."""
    if field.is_list:
        return list(value or [])
    if field.kind is Kind.BOOL:
        return bool(value)
    if value is None or value == "":
        return None
    if field.kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if field.kind is Kind.NUMBER:
        return float(value)
    if field.kind in (Kind.TEXT, Kind.LONGTEXT):
        text = str(value).strip()
        return text or None
    return value
