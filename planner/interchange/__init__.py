"""The interchange format: one JSON document holds one plan.

It is used for export, import, backup, templates and the example plan:

    {"format": "web20-plan", "version": 1, "plan": {...fields..., "goals": [...], ...}}

`validate` owns what an import accepts (pure functions, read from the domain declaration);
`transfer` moves documents in and out of the database; `example` holds the example plan;
`routes` offers download and upload on the web.  The CLI is in `planner.cli`.
"""

from planner.interchange.transfer import (
    ImportRefused,
    dumps,
    export_document,
    import_data,
    import_document,
)
from planner.interchange.validate import DocumentRefused, Problem, check_document, parse_document, validate_document

__all__ = [
    "DocumentRefused",
    "ImportRefused",
    "Problem",
    "check_document",
    "dumps",
    "export_document",
    "import_data",
    "import_document",
    "parse_document",
    "validate_document",
]
