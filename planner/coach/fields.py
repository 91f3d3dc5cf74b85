"""The declared entities and fields the coach reads, each resolved once, at import.

The coach never names a field by a string where it reads a plan: it reads `HOURS.of(practice)`,
not ``practice.get("hours_per_week")``.  Each handle below is looked up in
`planner.domain.declaration` when this module is imported, so renaming or removing a field
there stops the app at start-up with a KeyError naming the field, instead of letting a check
quietly find "no hours" in every plan.
"""

from __future__ import annotations

from planner.domain import entity, plan_field

# ---------------------------------------------------------------- the plan's own fields

TITLE = plan_field("title")
PERIOD_START = plan_field("period_start")
PERIOD_END = plan_field("period_end")
STAFF_ACCESS = plan_field("staff_access")
REVIEW_CADENCE = plan_field("review_cadence")
RESPONSE_PROTOCOL = plan_field("response_protocol")
STAFF_GUIDELINES = plan_field("staff_guidelines")

# ---------------------------------------------------------------- the entities and their fields

GOAL = entity("goal")

OBJECTIVE = entity("objective")
OBJECTIVE_GOAL = OBJECTIVE.field("goal")

SEGMENT = entity("segment")
SEGMENT_NAME = SEGMENT.field("name")
SEGMENT_PRIORITY = SEGMENT.field("priority")
SEGMENT_VENUES = SEGMENT.field("venues")

PERSON = entity("person")
PERSON_HOURS = PERSON.field("hours_per_week")
PERSON_IS_LEADER = PERSON.field("is_leader")

CHANNEL = entity("channel")
CHANNEL_STATUS = CHANNEL.field("status")
CHANNEL_OWNER = CHANNEL.field("owner")

LISTENING_TARGET = entity("listening_target")
TARGET_SEGMENTS = LISTENING_TARGET.field("segments")
TARGET_LISTENER = LISTENING_TARGET.field("listener")

PRACTICE = entity("practice")
PRACTICE_OBJECTIVE = PRACTICE.field("objective")
PRACTICE_CHANNELS = PRACTICE.field("channels")
PRACTICE_OWNERS = PRACTICE.field("owners")
PRACTICE_HOURS = PRACTICE.field("hours_per_week")
PRACTICE_MODE = PRACTICE.field("mode")

CONCERN = entity("concern")
CONCERN_MITIGATION = CONCERN.field("mitigation")

METRIC = entity("metric")
METRIC_OBJECTIVE = METRIC.field("objective")
METRIC_KIND = METRIC.field("kind")

MILESTONE = entity("milestone")
MILESTONE_DUE = MILESTONE.field("due")
MILESTONE_DONE = MILESTONE.field("done")

# ---------------------------------------------------------------- the declared choices the checks name

# The one mode that is not social; the product says so of the declared modes.
BROADCAST = PRACTICE_MODE.choice("broadcast").value
AMPLIFY = PRACTICE_MODE.choice("amplify").value
PRIMARY = SEGMENT_PRIORITY.choice("primary").value
RETIRING = CHANNEL_STATUS.choice("retiring").value
ENGAGEMENT = METRIC_KIND.choice("engagement").value
ACCESS_OPEN = STAFF_ACCESS.choice("open").value
ACCESS_PARTIAL = STAFF_ACCESS.choice("partial").value
ACCESS_BLOCKED = STAFF_ACCESS.choice("blocked").value
