"""The organization's own rules: ``open_access`` (staff may reach social sites at work) and
``ready_for_critics`` (the response protocol is written, and every concern has an answer)."""

from __future__ import annotations

from planner.coach.checks.findings import Outcome, PlanDoc, Status
from planner.coach.checks.reading import item_refs, items, text_of
from planner.coach.checks.registry import check
from planner.coach.checks.wording import display, label, names, step_of, step_of_field, verb
from planner.coach.fields import (
    ACCESS_BLOCKED,
    ACCESS_OPEN,
    ACCESS_PARTIAL,
    CONCERN,
    CONCERN_MITIGATION,
    RESPONSE_PROTOCOL,
    STAFF_ACCESS,
    STAFF_GUIDELINES,
)


@check("open_access", "Staff can take part")
def open_access(plan: PlanDoc) -> Outcome:
    """Staff access to social sites is not blocked."""
    access = STAFF_ACCESS.of(plan)
    step = step_of_field(STAFF_ACCESS)
    guidelines = label(STAFF_GUIDELINES)
    if access == ACCESS_OPEN:
        return Outcome(Status.PASS, "Staff can reach social sites, so any colleague can help.", step)
    if access == ACCESS_BLOCKED:
        return Outcome(
            Status.FAIL,
            "Staff cannot reach social sites at work, so they cannot help the organization take part.",
            step,
            f"Ask the sponsor to open access, with {guidelines} that say what colleagues may do and say.",
        )
    if access == ACCESS_PARTIAL:
        return Outcome(
            Status.WARN,
            "Only some staff, or only some sites, are open: colleagues outside that circle cannot help.",
            step,
            f"Open access at least for everyone named in this plan, and write {guidelines} for the rest.",
        )
    return Outcome(
        Status.WARN,
        "The plan doesn't say whether staff can reach social sites at work.",
        step,
        "Say whether access is blocked, partial or open.",
    )


@check("ready_for_critics", "Ready for critics")
def ready_for_critics(plan: PlanDoc) -> Outcome:
    """The response protocol is written (and every concern has an answer)."""
    step = step_of_field(RESPONSE_PROTOCOL)
    protocol = label(RESPONSE_PROTOCOL)
    if not text_of(RESPONSE_PROTOCOL.of(plan)):
        return Outcome(
            Status.FAIL,
            "The plan doesn't say how to answer criticism or negative comments.",
            step,
            f"Write the {protocol}: who answers criticism, how fast, and when to take a conversation offline.",
        )
    unmet = item_refs(CONCERN, (c for c in items(plan, CONCERN) if not text_of(CONCERN_MITIGATION.of(c))))
    if unmet:
        return Outcome(
            Status.WARN,
            f"The {protocol} is written, but {names(unmet)} {verb(unmet, 'has', 'have')} no answer yet.",
            step_of(CONCERN),
            f"Say how the plan meets {display(unmet[0])}.",
            unmet,
        )
    return Outcome(Status.PASS, f"The {protocol} says how the team answers critics.", step)
