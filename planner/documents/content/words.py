"""The document's own words: every heading, lead and remark it says in its own voice.

Every format (HTML, PDF, Markdown, Word) reads them from here, so the four say the same things;
the templates know this module as `words`.  Where the document names something the declaration
names already (an entity, a field), it takes the declaration's label rather than a copy of it.
"""

from __future__ import annotations

from planner.domain import entity, plan_field

SUBTITLE = "Social media strategy: how we take part in the conversation"
NOT_WRITTEN = "Not yet written."
CONTENTS = "Contents"
# The last section, for anything the declaration puts on no step.
OTHER_ANSWERS = "Other answers"

# ---------------------------------------------------------------- the cover

UNTITLED = "Untitled plan"
ORGANIZATION = plan_field("organization").label
SPONSOR = plan_field("sponsor").label
PLAN_PERIOD = "Plan period"
PRINTED = "Printed"
STATUS = "Status"
READY = "Ready for sign-off"
STILL_OPEN = "Still to finish"
TO_FIX = "Coach's checks to fix"
TO_LOOK_AT = "Coach's checks to look at"

# ---------------------------------------------------------------- goals to objectives to practices

CHAIN = "From goals to practices"
CHAIN_LEAD = (
    "Each goal, the social objectives that serve it, and the practices that serve each objective: "
    "what we do, in which mode, who does it and for how many hours a week."
)
GOAL = entity("goal").label
NO_GOAL = "Not yet tied to a goal"
UNTIED = "Not yet tied to an objective"
NO_PRACTICE_YET = "No practice serves this objective yet."
MEASURED_BY = "Measured by"
A_WEEK = "a week"

# ---------------------------------------------------------------- audiences by practices

REACH = "Audiences and how we reach them"
REACH_LEAD = "For each audience, primary ones first: the practices that reach it, and where we listen to it."
PRACTICES_THAT_REACH = "Practices that reach them"
# The places listening targets name, under the label the declaration gives them.
WHERE_WE_LISTEN = entity("listening_target").field("venue").label
NO_AUDIENCE = "No audience named"
NONE_YET = "None yet"

# ---------------------------------------------------------------- who does what

WHO_DOES_WHAT = "Who does what"
WHO_DOES_WHAT_LEAD = (
    "Each practice's hours are shared equally among the people who do it, "
    "and set against the hours each person can give a week. "
    "Listening takes its time through the listening practices, so a place to listen adds no hours of its own."
)
HOURS_A_WEEK = "Hours a week"
NOBODY = "No one yet"
TOTAL = "Total"

# ---------------------------------------------------------------- the timeline

TIMELINE = "Timeline"
TIMELINE_LEAD = "The milestones in date order, each with who sees it through."
UNDATED = "No date yet"
DONE = entity("milestone").field("done").label

# ---------------------------------------------------------------- the coach's report

COACH = "Coach's report"
COACH_LEAD = (
    "Planner's coach checks the plan against {checks} signs of a plan that puts conversation before "
    "broadcast, and says what to do next wherever one is missing."
)
FIX_IN = "Where to fix it"
# The columns of the findings' table, for the formats that show no picture.
CHECK = "Check"
RESULT = "Result"
FOUND = "What the coach found"
NEXT_STEP = "Next step"

# ---------------------------------------------------------------- sign-off

SIGN_OFF = "Sign-off"
SIGN_OFF_TEXT = "By signing, we agree to this plan and to the time it asks of the people named in it."
SIGN_OFF_ROLES = (SPONSOR, "Approved by", "Prepared by")  # the sponsor's name is filled in
SIGN_OFF_COLUMNS = ("Role", "Name", "Signature", "Date")
