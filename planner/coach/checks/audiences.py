"""The audiences: ``where_they_talk`` (each primary audience names the places it already talks)
and ``real_audiences`` (no segment is "everyone" in disguise, `is_vague_audience`)."""

from __future__ import annotations

import re
import unicodedata

from planner.coach import rules
from planner.coach.checks.findings import Outcome, PlanDoc, Status
from planner.coach.checks.reading import item_refs, items, primary_segments, text_of
from planner.coach.checks.registry import check, no_segments
from planner.coach.checks.wording import display, names, step_of, verb
from planner.coach.fields import PRIMARY, SEGMENT, SEGMENT_NAME, SEGMENT_PRIORITY, SEGMENT_VENUES


@check("where_they_talk", "Go where they talk")
def where_they_talk(plan: PlanDoc) -> Outcome:
    """Every primary segment names at least one venue."""
    if not items(plan, SEGMENT):
        return no_segments()
    primary, assumed = primary_segments(plan)
    silent = item_refs(SEGMENT, (s for s in primary if not any(text_of(v) for v in SEGMENT_VENUES.of(s) or [])))
    if not silent:
        return Outcome(
            Status.PASS,
            f"The plan knows where {names(item_refs(SEGMENT, primary))} already talk.",
            step_of(SEGMENT),
        )
    message = f"{names(silent)} {verb(silent, 'has', 'have')} no venue yet: where do they already talk?"
    if assumed:
        message += " No segment is marked primary, so the coach reads them all as primary."
    return Outcome(
        Status.FAIL if len(silent) == len(primary) else Status.WARN,
        message,
        step_of(SEGMENT),
        f"Add the groups, forums or hashtags where {display(silent[0])} already talk, and go there "
        "rather than waiting for them to come to you.",
        silent,
    )


_WORD = re.compile(r"[^\W_]+")


def is_vague_audience(name: str) -> bool:
    """Whether a segment's name means "everyone": made only of vague and joining words,
    ignoring case, accents and punctuation ("The General Public!", "Tout le monde", "Alle")."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    words = _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))
    vague = rules.VAGUE_AUDIENCE_WORDS
    return any(w in vague for w in words) and all(w in vague or w in rules.FILLER_AUDIENCE_WORDS for w in words)


@check("real_audiences", "Real audiences")
def real_audiences(plan: PlanDoc) -> Outcome:
    """No segment is "everyone", "the general public" or the like."""
    segments = items(plan, SEGMENT)
    if not segments:
        return no_segments()
    vague = [s for s in segments if is_vague_audience(str(SEGMENT_NAME.of(s) or ""))]
    if not vague:
        return Outcome(
            Status.PASS,
            f"Every segment names people you can picture: {names(item_refs(SEGMENT, segments))}.",
            step_of(SEGMENT),
        )
    refs = item_refs(SEGMENT, vague)
    # A vague secondary audience is a loose end; a vague primary one means nobody is the focus.
    broken = len(vague) == len(segments) or any(SEGMENT_PRIORITY.of(s) == PRIMARY for s in vague)
    return Outcome(
        Status.FAIL if broken else Status.WARN,
        f"{names(refs)} {verb(refs, 'is', 'are')} everyone, which is nobody in particular.",
        step_of(SEGMENT),
        f"Split {display(refs[0])} into the groups you really need: say who they are, what they care about "
        "and where they talk.",
        refs,
    )
