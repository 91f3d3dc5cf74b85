"""The coach's thresholds and weights, declared once, each with the reason for its value.

The checks in `planner.coach.checks` and the score in `planner.coach.report` read these
names and restate none of them.  To make the coach stricter or kinder, change a value here;
the tests pin the behaviour just below, at and just above each threshold.

What the statuses mean (every check follows this):

* ``pass``: the rule holds, judged on what the plan actually says.
* ``warn``: the rule partly holds (some items comply and some don't, or a figure sits between
  the fail line and the pass line), or it holds only on an assumption because a detail is unset.
* ``fail``: the rule is broken outright, or the plan has nothing yet for the rule to judge.
  An empty plan therefore never passes.  Two checks give ``warn`` rather than ``fail`` when
  their input is absent, because absence there is not itself the failure the post describes:
  ``open_access`` when staff access is unset (unknown is not "blocked"), and ``focus`` when the
  plan lists no channels (no accounts means no abandoned accounts, but nothing was checked).
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- two_way

# The product's line: most of the week must go to conversation, with room left for honest news.
SOCIAL_SHARE_PASS: Final = 0.60
# Below this, broadcast outweighs conversation by half again (60:40): the "media" habit rules.
SOCIAL_SHARE_FAIL_BELOW: Final = 0.40
# A practice nobody has costed still takes time; one hour keeps its mode in the balance
# without letting a guess outweigh the practices whose hours the team did write down.
UNSTATED_PRACTICE_HOURS: Final = 1.0

# ---------------------------------------------------------------- many_voices

# "Only one or two approved people may post" is the symptom; three owners is the cure's minimum.
MANY_VOICES_PASS: Final = 3
# Two voices is better than one, but still the controlled-message pattern: a warning, not a pass.
MANY_VOICES_WARN: Final = 2

# ---------------------------------------------------------------- capacity

# Relationships take regular time: under five hours a week across the team, nobody can both
# listen and answer every working day.
MIN_PRACTICE_HOURS: Final = 5.0

# Each person is judged as well as the team (`planner.coach.load`, which the Team step and the
# document's "who does what" table read too).  A practice's hours are shared equally among its
# owners who are on the team: the plan says who does a practice, not who does how much of it, and
# an equal share is the reading nobody has to guess.  A practice with no owner on the team falls
# to "no one yet" and to nobody's load; one without hours adds nothing (the check names it).
# A person whose share is more than their own hours a week makes ``capacity`` warn, naming them
# and by how much: the totals can fit while one volunteer carries the plan.  Warn, not fail,
# because moving one practice to a colleague fixes it.

# The declaration gives a listening target no hours of its own.  Listening time is budgeted as a
# practice in the ``listen`` mode (which has hours and owners), so a listening target adds nothing
# more to its listener's load: counting both would count the same hours twice.
LISTENING_TARGET_HOURS: Final = 0.0

# ---------------------------------------------------------------- reflect

# A yearly review comes too late to learn from a pilot: the plan would run a year unexamined.
SLOW_REVIEW_CADENCES: Final = frozenset({"yearly"})

# Milestones are judged by ``reflect`` (a fifteenth id would change the product's fourteen):
# a plan that reviews itself knows what is late.  A milestone dated before the plan starts or
# after it ends, or past its date and not marked done (judged on the day the coach runs, which
# `planner.coach.checks.run_all` takes as an argument so tests can pick it), makes it warn,
# naming the milestone.  Warn, not fail: a new date or a tick fixes it.
MILESTONES: Final = "reflect"

# ---------------------------------------------------------------- real_audiences

# Words that, alone or together, name nobody in particular.  A segment whose name is made only
# of these (after case, accents and punctuation are removed) is "everyone" in disguise.
# English first, then the obvious French, German, Spanish, Italian, Portuguese and Dutch forms.
VAGUE_AUDIENCE_WORDS: Final = frozenset(
    {
        # English
        "everyone", "everybody", "anyone", "anybody", "all", "public", "general", "audience",
        "audiences", "people", "masses", "mass", "world", "society", "population", "whoever",
        # French
        "tout", "tous", "toutes", "monde", "grand", "publics",
        # German
        "alle", "jeder", "jedermann", "offentlichkeit", "allgemeinheit", "publikum",
        # Spanish and Portuguese
        "todos", "todas", "todo", "mundo", "publico", "gente", "geral", "pessoas",
        # Italian
        "tutti", "pubblico", "generale", "grande",
        # Dutch
        "iedereen", "publiek", "grote",
    }
)  # fmt: skip
# Joining words that may sit between vague words ("the public at large") without making a
# segment specific.  A name made only of these is not flagged: it names nothing, vague or not.
FILLER_AUDIENCE_WORDS: Final = frozenset(
    {
        "the", "a", "an", "at", "large", "in", "of", "wide", "wider", "whole", "broad", "entire",
        "le", "la", "les", "de", "du", "des", "die", "der", "das", "el", "los", "en", "il", "o",
        "os", "em", "het", "and", "et", "und", "y", "e",
    }
)  # fmt: skip

# ---------------------------------------------------------------- the score

# Weights say how much each check moves the score.  The checks that decide whether the plan is
# social at all (two-way time, listening, many voices) and whether it can be done (strategy,
# capacity, measurement) weigh more than the ones a single sentence can fix.
WEIGHTS: Final[dict[str, int]] = {
    "strategy_first": 2,  # tools without goals is the root failure; everything hangs off it
    "listen_first": 2,  # listening before speaking is what separates social from media
    "two_way": 3,  # the heart of the product: time spent in conversation, not broadcast
    "amplify_others": 1,  # one practice fixes it
    "many_voices": 2,  # the "one or two approved people" symptom
    "leaders_take_part": 1,  # one assignment fixes it
    "open_access": 1,  # one policy decision, often outside the team's hands
    "where_they_talk": 1,  # one line per segment fixes it
    "real_audiences": 1,  # one renamed segment fixes it
    "capacity": 2,  # a plan without time, or with more time than people, will not happen
    "measure_engagement": 2,  # without measures nobody learns; engagement before reach
    "ready_for_critics": 1,  # one paragraph fixes it
    "reflect": 1,  # one choice fixes it
    "focus": 1,  # abandoned accounts hurt, but are quick to retire or staff
}

# Credit for each status, as a share of the check's weight: a warning is a plan half-way there.
CREDIT: Final[dict[str, float]] = {"pass": 1.0, "warn": 0.5, "fail": 0.0}

# ---------------------------------------------------------------- messages

# Messages name at most this many items, then say "and N more": a wall of names hides the advice.
NAMES_IN_MESSAGE: Final = 4
# Practice descriptions can run to 500 characters; a message quotes only the start.
NAME_CHARS: Final = 60
