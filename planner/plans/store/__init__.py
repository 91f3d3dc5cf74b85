"""Reading and writing plans in the database, and the record of every write.

Callers use this package as one module (`from planner.plans import store`, then
`store.load_doc(plan)`, `store.add_item(...)`, `store.EditConflict`); each part does one job
and can be read alone:

* `results`: what the functions return and raise (`Saved`, `Conflict`, `ItemGone`...);
* `reading`: a plan, the list of plans, and a plan as a plan document (`load_doc`);
* `codec`: a value as its column holds it and as the JSON format writes it;
* `journal`: the record of changes, which every write adds to (`touch`) and edits read back;
* `merging`: an edit based on an older version, merged with others' changes since, or refused;
* `cascade`: what deleting an item takes along, worked out before anything is written;
* `rows`: an item's rows (its fields, its reference lists, a new item's key and version);
* `writing`: edits of the plan's fields and of its items (add, edit, delete, move);
* `whole_plans`: a new plan, a plan built from a document (the import, a copy), a plan deleted;
* `restoring`: undoing a recorded change.

Every write takes the acting user (`actor`: a `User`, or None for the command line and before
anyone signs in) and is recorded as `Change` rows: who, when, what, and the item (or the
plan's changed fields) before and after. From that record:

* an edit based on an older version of an item is merged field by field, or refused with an
  `EditConflict` when two people changed the same field;
* an edit of an item someone deleted meanwhile raises `ItemGone`, which says who deleted it;
* a deleted item or an old value can be restored (`restore`), and the restore is recorded too.

An item's `version` counts its saved states.  It keeps counting when an item is deleted and
restored with the same key, so a version number names one state in the key's history.
"""

from planner.plans.store.codec import plain_value
from planner.plans.store.journal import field_labels
from planner.plans.store.reading import (
    FormRead,
    form_doc,
    form_read,
    get_item,
    get_plan,
    item_version,
    item_versions,
    list_plans,
    load_doc,
    page_doc,
)
from planner.plans.store.restoring import get_change, restorable, restore
from planner.plans.store.results import (
    Conflict,
    Edit,
    EditConflict,
    ItemGone,
    NotFound,
    Restored,
    RestoreRefused,
    Saved,
    TooManyItems,
)
from planner.plans.store.rows import next_key
from planner.plans.store.whole_plans import create_from_doc, create_plan, delete_plan, duplicate_plan
from planner.plans.store.writing import RETRIES, add_item, delete_item, move_item, update_item, update_plan_fields

__all__ = [
    "RETRIES",
    "Conflict",
    "Edit",
    "EditConflict",
    "FormRead",
    "ItemGone",
    "NotFound",
    "RestoreRefused",
    "Restored",
    "Saved",
    "TooManyItems",
    "add_item",
    "create_from_doc",
    "create_plan",
    "delete_item",
    "delete_plan",
    "duplicate_plan",
    "field_labels",
    "form_doc",
    "form_read",
    "get_change",
    "get_item",
    "get_plan",
    "item_version",
    "item_versions",
    "list_plans",
    "load_doc",
    "move_item",
    "next_key",
    "page_doc",
    "plain_value",
    "restorable",
    "restore",
    "update_item",
    "update_plan_fields",
]
