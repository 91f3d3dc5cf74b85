"""Listen first: every primary audience has a listening target, a place where the team hears
it before it speaks (check ``listen_first``)."""

from __future__ import annotations

from planner.coach.checks.findings import Outcome, PlanDoc, Status
from planner.coach.checks.reading import item_refs, items, primary_segments
from planner.coach.checks.registry import check, no_segments
from planner.coach.checks.wording import display, names, plural, singular, step_of, verb
from planner.coach.fields import LISTENING_TARGET, SEGMENT, TARGET_SEGMENTS


@check("listen_first", "Listen first")
def listen_first(plan: PlanDoc) -> Outcome:
    """Every primary segment has at least one listening target."""
    if not items(plan, SEGMENT):
        return no_segments()
    primary, assumed = primary_segments(plan)
    targets = items(plan, LISTENING_TARGET)
    heard = {key for t in targets for key in (TARGET_SEGMENTS.of(t) or [])}
    unheard = item_refs(SEGMENT, (s for s in primary if s.get("key") not in heard))
    if not unheard:
        return Outcome(
            Status.PASS,
            f"The team listens to {names(item_refs(SEGMENT, primary))} before it speaks.",
            step_of(LISTENING_TARGET),
        )
    message = f"{names(unheard)} {verb(unheard, 'has', 'have')} no {singular(LISTENING_TARGET)}."
    if not targets:
        message = f"The plan has no {plural(LISTENING_TARGET)}: it would speak before it hears. {message}"
    if assumed:
        message += " No segment is marked primary, so the coach reads them all as primary."
    return Outcome(
        Status.FAIL if len(unheard) == len(primary) else Status.WARN,
        message,
        step_of(LISTENING_TARGET),
        f"Add a listening target for {display(unheard[0])}: where they talk, which words to follow, and who listens.",
        unheard,
    )
