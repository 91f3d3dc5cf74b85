"""The domain: what a Web 2.0 plan is made of, declared once (see `declaration`)."""

from planner.domain.declaration import (
    ENTITIES,
    ENTITY_BY_COLLECTION,
    ENTITY_BY_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    PLAN_FIELDS,
    REVIEW_STEP,
    STEP_BY_SLUG,
    STEP_OF_ENTITY,
    STEP_OF_PLAN_FIELD,
    STEPS,
    entity,
    plan_field,
)
from planner.domain.spec import Choice, Entity, Field, Kind, Step

__all__ = [
    "ENTITIES",
    "ENTITY_BY_COLLECTION",
    "ENTITY_BY_NAME",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "PLAN_FIELDS",
    "REVIEW_STEP",
    "STEPS",
    "STEP_BY_SLUG",
    "STEP_OF_ENTITY",
    "STEP_OF_PLAN_FIELD",
    "Choice",
    "Entity",
    "Field",
    "Kind",
    "Step",
    "entity",
    "plan_field",
]
