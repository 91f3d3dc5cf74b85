"""The people who do the work: ``many_voices`` (several people own practices or listen),
``leaders_take_part`` (a leader does some of it in person) and ``capacity`` (the practices fit
the hours the team gives, in all and person by person, as `planner.coach.load` counts them)."""

from __future__ import annotations

from planner.coach import rules
from planner.coach.checks.findings import Item, Outcome, PlanDoc, Problem, Status, combine
from planner.coach.checks.reading import at_least, item_ref, item_refs, items
from planner.coach.checks.registry import check, no_practices
from planner.coach.checks.wording import display, label, names, step_of, verb
from planner.coach.fields import (
    LISTENING_TARGET,
    PERSON,
    PERSON_HOURS,
    PERSON_IS_LEADER,
    PRACTICE,
    PRACTICE_HOURS,
    PRACTICE_OWNERS,
    TARGET_LISTENER,
)
from planner.coach.load import EPSILON, loads
from planner.text import hours_of, hours_text


@check("many_voices", "Many voices")
def many_voices(plan: PlanDoc) -> Outcome:
    """Practices and listening are owned by at least `rules.MANY_VOICES_PASS` people."""
    people = {p.get("key"): p for p in items(plan, PERSON)}
    practices = items(plan, PRACTICE)
    voices: dict[str, Item] = {}  # ordered: first practice owners, then listeners
    for p in practices:
        for key in PRACTICE_OWNERS.of(p) or []:
            if key in people:
                voices.setdefault(key, people[key])
    for t in items(plan, LISTENING_TARGET):
        listener = TARGET_LISTENER.of(t)
        if listener in people:
            voices.setdefault(listener, people[listener])
    voice_refs = item_refs(PERSON, voices.values())
    unowned = item_refs(PRACTICE, (p for p in practices if not any(k in people for k in PRACTICE_OWNERS.of(p) or [])))
    count = len(voice_refs)
    if count >= rules.MANY_VOICES_PASS:
        return Outcome(
            Status.PASS,
            f"{count} people own practices or listen: {names(voice_refs)}.",
            step_of(PRACTICE),
        )
    if count == 0:
        message = "Nobody owns a practice or listens yet."
    else:
        owns, listens = verb(count, "owns", "own"), verb(count, "listens", "listen")
        message = f"Only {names(voice_refs)} {owns} practices or {listens}."
    if unowned:
        message += f" Nobody does {names(unowned)}."
    idle = item_refs(PERSON, (p for k, p in people.items() if k not in voices))
    if len(people) < rules.MANY_VOICES_PASS:
        step = step_of(PERSON)
        next_step = (
            f"Bring more people into the work: at least {rules.MANY_VOICES_PASS} colleagues or volunteers, "
            "each with a practice or a place to listen."
        )
    else:
        step = step_of(PRACTICE)
        next_step = f"Give {display(idle[0])} a practice or a listening target." if idle else ""
    status = Status.WARN if count >= rules.MANY_VOICES_WARN else Status.FAIL
    return Outcome(status, message, step, next_step, unowned)


@check("leaders_take_part", "Leaders take part")
def leaders_take_part(plan: PlanDoc) -> Outcome:
    """A person marked as a leader owns a practice or listens."""
    people = items(plan, PERSON)
    leaders = [p for p in people if PERSON_IS_LEADER.of(p) is True]
    if not leaders:
        return Outcome(
            Status.FAIL,
            "Nobody on the team is marked as a leader." if people else "The team is empty, so no leader takes part.",
            step_of(PERSON),
            "Add a leader of the organization to the team (the sponsor is a natural first choice) "
            "and mark them as a leader.",
        )
    busy = {k for p in items(plan, PRACTICE) for k in PRACTICE_OWNERS.of(p) or []}
    busy |= {TARGET_LISTENER.of(t) for t in items(plan, LISTENING_TARGET)}
    active = item_refs(PERSON, (p for p in leaders if p.get("key") in busy))
    if active:
        return Outcome(
            Status.PASS,
            f"{names(active)} {verb(active, 'takes', 'take')} part in person, so the leadership sees what works.",
            step_of(PRACTICE),
        )
    idle = item_refs(PERSON, leaders)
    return Outcome(
        Status.WARN,
        f"{names(idle)} {verb(idle, 'is', 'are')} on the team but {verb(idle, 'owns', 'own')} no practice "
        f"and {verb(idle, 'listens', 'listen')} nowhere.",
        step_of(LISTENING_TARGET),
        f"Ask {display(idle[0])} to own a listening target: a few minutes a week reading what the audience says.",
        idle,
    )


def _overloaded(plan: PlanDoc) -> Problem | None:
    """The people whose share of the work is more than the hours they give (`planner.coach.load`)."""
    by_key = {p.get("key"): p for p in items(plan, PERSON)}
    over = [(load, item_ref(PERSON, by_key[load.person])) for load in loads(plan) if load.person and load.is_over]
    if not over:
        return None
    said = [f"{display(ref)}: {load.summary}." for load, ref in over[: rules.NAMES_IN_MESSAGE]]
    rest = len(over) - len(said)
    if rest:
        said.append(f"{rest} more {verb(rest, 'is', 'are')} over their hours too.")
    first = over[0][1]
    return Problem(
        " ".join(said),
        f"Give part of {display(first)}'s work to someone with hours to spare, or shrink the practices "
        f"{display(first)} shares.",
        step_of(PERSON),
        tuple(ref for _, ref in over),
    )


@check("capacity", "Time for relationships")
def capacity(plan: PlanDoc) -> Outcome:
    """Practice hours are at least `rules.MIN_PRACTICE_HOURS` a week, within the team's hours, and
    within each person's own (`planner.coach.load`)."""
    practices = items(plan, PRACTICE)
    if not practices:
        return no_practices()
    people = items(plan, PERSON)
    if not people:
        return Outcome(
            Status.FAIL,
            "The team is empty: nobody has time for these practices.",
            step_of(PERSON),
            "List the people who will do the work and the hours each can give a week.",
        )
    stated = [h for p in practices if (h := hours_of(PRACTICE_HOURS.of(p))) is not None]
    practice_hours = sum(stated)
    unstated = item_refs(PRACTICE, (p for p in practices if hours_of(PRACTICE_HOURS.of(p)) is None))
    team = [h for p in people if (h := hours_of(PERSON_HOURS.of(p))) is not None]
    team_hours = sum(team)
    minimum = hours_text(rules.MIN_PRACTICE_HOURS)
    if team and practice_hours > team_hours + EPSILON:
        return Outcome(
            Status.FAIL,
            f"The practices need {hours_text(practice_hours)} a week, but the team gives only "
            f"{hours_text(team_hours)}.",
            step_of(PERSON),
            "Add people or hours, or shrink the practices, until the work fits the time the team really has.",
        )
    if practice_hours <= EPSILON:
        return Outcome(
            Status.FAIL,
            "No hours are set aside for the practices yet.",
            step_of(PRACTICE),
            f"Give each practice its {label(PRACTICE_HOURS)}: relationships need at least {minimum} a week in all.",
            unstated,
        )
    problems = []
    if not at_least(practice_hours, rules.MIN_PRACTICE_HOURS):
        problems.append(
            Problem(
                f"The practices take only {hours_text(practice_hours)} a week; relationships need at least {minimum}.",
                "Budget more time for answering and listening, or pick fewer channels and give them real time.",
                step_of(PRACTICE),
            )
        )
    if unstated:
        problems.append(
            Problem(
                f"{names(unstated)} {verb(unstated, 'has', 'have')} no hours yet.",
                f"Say how many hours a week {display(unstated[0])} takes.",
                step_of(PRACTICE),
                unstated,
            )
        )
    if not team:
        problems.append(
            Problem(
                "Nobody on the team has hours for this plan yet, so the coach can't tell whether the work fits.",
                "Give each person the hours a week they can spend on this plan.",
                step_of(PERSON),
            )
        )
    overloaded = _overloaded(plan)
    if overloaded:
        problems.append(overloaded)
    if problems:
        return combine(Status.WARN, problems)
    return Outcome(
        Status.PASS,
        f"The practices take {hours_text(practice_hours)} a week, within the team's {hours_text(team_hours)}, "
        "and nobody is asked for more hours than they give.",
        step_of(PRACTICE),
    )
