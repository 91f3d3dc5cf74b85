"""The coach's fourteen checks: plain functions from a plan document to a `Finding`.

A plan document is the interchange format's ``plan`` object, as `planner.plans.store.load_doc`
builds it.  The checks read it defensively (a missing list is an empty list, a dangling key is
no reference), so they also judge an imported file or a half-built test dict.

Each finding says, in the plan's own words, what holds and what doesn't, suggests one concrete
next step, and names the wizard step that fixes it (`Finding.step_slug`).  The items at fault
travel as `ItemRef`s, each with its own step and anchor, so the wizard can link straight to them.
What pass, warn and fail mean, and every threshold, is documented in `planner.coach.rules`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from planner.coach import rules
from planner.coach.load import EPSILON, hours_of, hours_text, loads
from planner.domain import ENTITY_BY_NAME, STEP_OF_ENTITY, STEP_OF_PLAN_FIELD, plan_field
from planner.plans.view import long_date, shorten, title_of

PlanDoc = Mapping[str, Any]
Item = Mapping[str, Any]

# The one mode that is not social; the product says so of the declared modes.
BROADCAST = "broadcast"
# The key `Balance.hours_by_mode` uses for practices whose mode nobody chose.
UNSET_MODE = "unset"
MODES = ENTITY_BY_NAME["practice"].field("mode").values
SOCIAL_MODES = tuple(m for m in MODES if m != BROADCAST)

# Items whose display name is a sentence (a practice, an objective) read better in quotes
# inside a message; names of people, segments and channels read better bare.
_QUOTED_ENTITIES = frozenset({"goal", "objective", "practice", "concern", "milestone"})


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class ItemRef:
    """One plan item a finding is about: enough to name it and link to it."""

    entity: str  # the entity's name, "segment"
    key: str
    title: str  # the item's display name, untruncated

    @property
    def step_slug(self) -> str:
        """The wizard step where this item is edited."""
        return STEP_OF_ENTITY[self.entity].slug

    @property
    def anchor(self) -> str:
        """The fragment the wizard gives the item's form: ``segment-s1``."""
        return f"{self.entity}-{self.key}"

    @property
    def short_title(self) -> str:
        """The name as a link shows it: shortened at a word, as written."""
        return shorten(self.title, rules.NAME_CHARS)


@dataclass(frozen=True)
class Finding:
    """What one check found."""

    id: str
    status: Status
    title: str
    message: str
    next_step: str  # empty when the check passes and there is nothing to do
    step_slug: str  # the wizard step that fixes it (for a pass: where the rule lives)
    items: tuple[ItemRef, ...] = ()  # the items at fault, in plan order

    @property
    def item(self) -> ItemRef | None:
        """The first item at fault, for a single "fix it here" link."""
        return self.items[0] if self.items else None


@dataclass(frozen=True)
class Balance:
    """Practice hours by mode: where the plan sits between broadcast and conversation.

    A practice without hours counts as `rules.UNSTATED_PRACTICE_HOURS` so that its mode still
    shows; practices whose mode is unset count under `UNSET_MODE` and never as conversation.
    """

    hours_by_mode: dict[str, float] = field(default_factory=dict)  # MODES order, then UNSET_MODE
    practices: int = 0
    without_hours: tuple[ItemRef, ...] = ()
    without_mode: tuple[ItemRef, ...] = ()

    @property
    def total_hours(self) -> float:
        return sum(self.hours_by_mode.values())

    @property
    def social_hours(self) -> float:
        return sum(self.hours_by_mode.get(m, 0.0) for m in SOCIAL_MODES)

    @property
    def broadcast_hours(self) -> float:
        return self.hours_by_mode.get(BROADCAST, 0.0)

    @property
    def unset_hours(self) -> float:
        return self.hours_by_mode.get(UNSET_MODE, 0.0)

    @property
    def social_share(self) -> float | None:
        """Share of all practice hours in social modes, 0..1; None when there are no hours."""
        total = self.total_hours
        return self.social_hours / total if total > EPSILON else None


# ---------------------------------------------------------------- the day the coach reads the plan

# Only date checks use it (milestones past due).  `run_all` sets it for one run, so a test can
# judge a plan as of any day, and a page that keeps the coach's report keys it by the day too.
_TODAY: ContextVar[date | None] = ContextVar("coach_today", default=None)


def today() -> date:
    """The day the plan is judged on: the one given to `run_all`, or the real today."""
    return _TODAY.get() or date.today()


# ---------------------------------------------------------------- reading the plan


def _items(plan: PlanDoc, entity: str) -> list[Item]:
    return list(plan.get(ENTITY_BY_NAME[entity].collection) or [])


def _keys(plan: PlanDoc, entity: str) -> set[str]:
    return {i["key"] for i in _items(plan, entity) if i.get("key")}


def _ref(entity: str, item: Item) -> ItemRef:
    return ItemRef(entity, str(item.get("key", "")), str(title_of(ENTITY_BY_NAME[entity], dict(item))))


def _refs(entity: str, items: Iterable[Item]) -> tuple[ItemRef, ...]:
    return tuple(_ref(entity, i) for i in items)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _at_least(value: float, threshold: float) -> bool:
    return value >= threshold - EPSILON


def _primary_segments(plan: PlanDoc) -> tuple[list[Item], bool]:
    """The primary segments; when none is marked primary, all of them (and True), because a
    plan that ranks nothing still owes each audience a place to listen and to talk."""
    segments = _items(plan, "segment")
    primary = [s for s in segments if s.get("priority") == "primary"]
    return (primary, False) if primary else (segments, True)


def balance(plan: PlanDoc) -> Balance:
    """Practice hours by mode, in the declared order of the modes."""
    hours = dict.fromkeys((*MODES, UNSET_MODE), 0.0)
    practices = _items(plan, "practice")
    for p in practices:
        stated = hours_of(p.get("hours_per_week"))
        mode = p.get("mode") if p.get("mode") in MODES else UNSET_MODE
        hours[mode] += rules.UNSTATED_PRACTICE_HOURS if stated is None else stated
    return Balance(
        hours_by_mode=hours,
        practices=len(practices),
        without_hours=_refs("practice", (p for p in practices if hours_of(p.get("hours_per_week")) is None)),
        without_mode=_refs("practice", (p for p in practices if p.get("mode") not in MODES)),
    )


# ---------------------------------------------------------------- writing messages


def display(ref: ItemRef) -> str:
    """An item's name as a message shows it: shortened, and quoted if it is a sentence."""
    name = shorten(ref.title, rules.NAME_CHARS)
    return f"“{name}”" if ref.entity in _QUOTED_ENTITIES else name


def names(refs: Sequence[ItemRef]) -> str:
    """`A`, `A and B`, `A, B and C`, or `A, B, C, D and 2 more`."""
    shown = [display(r) for r in refs[: rules.NAMES_IN_MESSAGE]]
    rest = len(refs) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _verb(refs: Sequence[ItemRef] | int, one: str, many: str) -> str:
    count = refs if isinstance(refs, int) else len(refs)
    return one if count == 1 else many


def percent_text(share: float) -> str:
    """A share as a percentage, never rounded up across a threshold: 0.599 -> "59.9%"."""
    tenths = math.floor(share * 1000 + 1e-6) / 10
    return f"{tenths:g}%"


def _step_of(entity: str) -> str:
    return STEP_OF_ENTITY[entity].slug


def _step_of_field(name: str) -> str:
    return STEP_OF_PLAN_FIELD[name].slug


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class _Outcome:
    """What a check's body decides; the registry adds the id and title."""

    status: Status
    message: str
    step_slug: str
    next_step: str = ""
    items: tuple[ItemRef, ...] = ()


@dataclass
class _Problem:
    """One way a rule is not met, for checks that look at several things at once."""

    message: str
    next_step: str
    step_slug: str
    items: tuple[ItemRef, ...] = ()


def _combine(status: Status, problems: Sequence[_Problem]) -> _Outcome:
    """One outcome from several problems: every message, the first problem's next step and step."""
    first = problems[0]
    return _Outcome(
        status,
        " ".join(p.message for p in problems),
        first.step_slug,
        first.next_step,
        tuple(ref for p in problems for ref in p.items),
    )


Check = Callable[[PlanDoc], Finding]
CHECKS: dict[str, Check] = {}
TITLES: dict[str, str] = {}


def check(check_id: str, title: str) -> Callable[[Callable[[PlanDoc], _Outcome]], Check]:
    """Register a check under its id; the order of registration is the report's order."""

    def register(body: Callable[[PlanDoc], _Outcome]) -> Check:
        def run(plan: PlanDoc) -> Finding:
            o = body(plan)
            return Finding(check_id, o.status, title, o.message, o.next_step, o.step_slug, o.items)

        run.__name__ = body.__name__
        run.__qualname__ = body.__qualname__
        run.__doc__ = body.__doc__
        CHECKS[check_id] = run
        TITLES[check_id] = title
        return run

    return register


def _no_segments() -> _Outcome:
    return _Outcome(
        Status.FAIL,
        "The plan names no audience segments yet, so nobody in particular is being talked with.",
        _step_of("segment"),
        "Name the groups you most need to reach.",
    )


def _no_practices() -> _Outcome:
    # Three checks meet the same gap: they say it in the same words, so a page that shows
    # them together says it once (`planner.coach.report.grouped`).
    return _Outcome(
        Status.FAIL,
        "The plan has no practices yet: no time goes to conversation, to passing on what others say, "
        "or to relationships.",
        _step_of("practice"),
        "Describe how the team will take part each week: answering questions, passing on others' news, "
        "hosting a conversation.",
    )


# ---------------------------------------------------------------- the checks


@check("strategy_first", "Strategy before tools")
def strategy_first(plan: PlanDoc) -> _Outcome:
    """Every objective serves a goal and every practice serves an objective."""
    goals = _keys(plan, "goal")
    objectives = _items(plan, "objective")
    practices = _items(plan, "practice")
    if not objectives:
        message = (
            "The plan has no goals or social objectives yet, so nothing says why the team is online."
            if not goals
            else "No social objective serves the organization's goals yet."
        )
        return _Outcome(
            Status.FAIL,
            message,
            _step_of("objective"),
            "Write the organization's main goal, then one social objective that serves it.",
        )
    objective_keys = {o.get("key") for o in objectives}
    orphans = _refs("objective", (o for o in objectives if o.get("goal") not in goals))
    strays = _refs("practice", (p for p in practices if p.get("objective") not in objective_keys))
    problems = []
    if orphans:
        problems.append(
            _Problem(
                f"{names(orphans)} {_verb(orphans, 'serves', 'serve')} no goal.",
                f"Tie {display(orphans[0])} to one of the organization's goals.",
                _step_of("objective"),
                orphans,
            )
        )
    if strays:
        problems.append(
            _Problem(
                f"{names(strays)} {_verb(strays, 'serves', 'serve')} no objective.",
                f"Say which objective {display(strays[0])} serves, or drop it: activity without a reason "
                "slides back into broadcast.",
                _step_of("practice"),
                strays,
            )
        )
    if not practices:
        problems.append(
            _Problem(
                "No practice serves the objectives yet.",
                f"Add a practice that serves {display(_ref('objective', objectives[0]))}.",
                _step_of("practice"),
            )
        )
    if not problems:
        return _Outcome(
            Status.PASS,
            "Every objective serves a goal, and every practice serves an objective.",
            _step_of("objective"),
        )
    broken = len(orphans) == len(objectives) or bool(practices and len(strays) == len(practices))
    return _combine(Status.FAIL if broken else Status.WARN, problems)


@check("listen_first", "Listen first")
def listen_first(plan: PlanDoc) -> _Outcome:
    """Every primary segment has at least one listening target."""
    if not _items(plan, "segment"):
        return _no_segments()
    primary, assumed = _primary_segments(plan)
    targets = _items(plan, "listening_target")
    heard = {key for t in targets for key in (t.get("segments") or [])}
    unheard = _refs("segment", (s for s in primary if s.get("key") not in heard))
    if not unheard:
        return _Outcome(
            Status.PASS,
            f"The team listens to {names(_refs('segment', primary))} before it speaks.",
            _step_of("listening_target"),
        )
    message = f"{names(unheard)} {_verb(unheard, 'has', 'have')} no listening target."
    if not targets:
        message = f"The plan has no listening targets: it would speak before it hears. {message}"
    if assumed:
        message += " No segment is marked primary, so the coach reads them all as primary."
    return _Outcome(
        Status.FAIL if len(unheard) == len(primary) else Status.WARN,
        message,
        _step_of("listening_target"),
        f"Add a listening target for {display(unheard[0])}: where they talk, which words to follow, and who listens.",
        unheard,
    )


@check("two_way", "Two-way, not broadcast")
def two_way(plan: PlanDoc) -> _Outcome:
    """At least `rules.SOCIAL_SHARE_PASS` of practice hours go to social modes."""
    practices = _items(plan, "practice")
    if not practices:
        return _no_practices()
    b = balance(plan)
    share = b.social_share
    if share is None:
        return _Outcome(
            Status.WARN,
            "Every practice has 0 hours, so the balance between broadcast and conversation can't be weighed.",
            _step_of("practice"),
            "Give each practice the hours per week it really takes.",
        )
    notes = []
    if b.without_hours:
        notes.append(
            f"{names(b.without_hours)} {_verb(b.without_hours, 'has', 'have')} no hours and "
            f"{_verb(b.without_hours, 'counts', 'count')} as {hours_text(rules.UNSTATED_PRACTICE_HOURS)} a week."
        )
    if b.without_mode:
        notes.append(
            f"{names(b.without_mode)} {_verb(b.without_mode, 'has', 'have')} no mode, so "
            f"{_verb(b.without_mode, 'it', 'they')} can't count as conversation."
        )
    summary = (
        f"{percent_text(share)} of practice hours go to conversation "
        f"({hours_text(b.social_hours)} of {hours_text(b.total_hours)} a week)."
    )
    if _at_least(share, rules.SOCIAL_SHARE_PASS):
        return _Outcome(Status.PASS, " ".join([summary, *notes]), _step_of("practice"))
    one_way = [p for p in practices if p.get("mode") == BROADCAST or p.get("mode") not in MODES]
    at_fault = _refs("practice", one_way)
    goal = percent_text(rules.SOCIAL_SHARE_PASS)
    if at_fault:
        next_step = (
            f"Move some of the time from {display(at_fault[0])} into answering questions or passing on "
            f"what others say, until conversation has at least {goal} of the hours."
        )
    else:
        next_step = f"Add conversation: a respond or amplify practice, until it has at least {goal} of the hours."
    status = Status.WARN if _at_least(share, rules.SOCIAL_SHARE_FAIL_BELOW) else Status.FAIL
    message = " ".join([f"Only {summary[0].lower()}{summary[1:]}", f"The goal is {goal}.", *notes])
    return _Outcome(status, message, _step_of("practice"), next_step, at_fault)


@check("amplify_others", "Pass on what others say")
def amplify_others(plan: PlanDoc) -> _Outcome:
    """At least one practice amplifies others."""
    practices = _items(plan, "practice")
    if not practices:
        return _no_practices()
    amplifying = [p for p in practices if p.get("mode") == "amplify"]
    if not amplifying:
        return _Outcome(
            Status.FAIL,
            "No practice passes on what others say: the plan only talks about the organization.",
            _step_of("practice"),
            "Add an amplify practice: each week, share the best posts of partners, members or neighbours.",
        )
    refs = _refs("practice", amplifying)
    if all(hours_of(p.get("hours_per_week")) == 0 for p in amplifying):
        return _Outcome(
            Status.WARN,
            f"{names(refs)} {_verb(refs, 'passes', 'pass')} on what others say, but with 0 hours a week.",
            _step_of("practice"),
            f"Give {display(refs[0])} some time each week.",
            refs,
        )
    return _Outcome(
        Status.PASS,
        f"{names(refs)} {_verb(refs, 'passes', 'pass')} on what others say.",
        _step_of("practice"),
    )


@check("many_voices", "Many voices")
def many_voices(plan: PlanDoc) -> _Outcome:
    """Practices and listening are owned by at least `rules.MANY_VOICES_PASS` people."""
    people = {p.get("key"): p for p in _items(plan, "person")}
    practices = _items(plan, "practice")
    voices: dict[str, Item] = {}  # ordered: first practice owners, then listeners
    for p in practices:
        for key in p.get("owners") or []:
            if key in people:
                voices.setdefault(key, people[key])
    for t in _items(plan, "listening_target"):
        if t.get("listener") in people:
            voices.setdefault(t["listener"], people[t["listener"]])
    voice_refs = _refs("person", voices.values())
    unowned = _refs("practice", (p for p in practices if not any(k in people for k in p.get("owners") or [])))
    count = len(voice_refs)
    if count >= rules.MANY_VOICES_PASS:
        return _Outcome(
            Status.PASS,
            f"{count} people own practices or listen: {names(voice_refs)}.",
            _step_of("practice"),
        )
    if count == 0:
        message = "Nobody owns a practice or listens yet."
    else:
        owns, listens = _verb(count, "owns", "own"), _verb(count, "listens", "listen")
        message = f"Only {names(voice_refs)} {owns} practices or {listens}."
    if unowned:
        message += f" Nobody does {names(unowned)}."
    idle = _refs("person", (p for k, p in people.items() if k not in voices))
    if len(people) < rules.MANY_VOICES_PASS:
        step = _step_of("person")
        next_step = (
            f"Bring more people into the work: at least {rules.MANY_VOICES_PASS} colleagues or volunteers, "
            "each with a practice or a place to listen."
        )
    else:
        step = _step_of("practice")
        next_step = f"Give {display(idle[0])} a practice or a listening target." if idle else ""
    status = Status.WARN if count >= rules.MANY_VOICES_WARN else Status.FAIL
    return _Outcome(status, message, step, next_step, unowned)


@check("leaders_take_part", "Leaders take part")
def leaders_take_part(plan: PlanDoc) -> _Outcome:
    """A person marked as a leader owns a practice or listens."""
    people = _items(plan, "person")
    leaders = [p for p in people if p.get("is_leader") is True]
    if not leaders:
        return _Outcome(
            Status.FAIL,
            "Nobody on the team is marked as a leader." if people else "The team is empty, so no leader takes part.",
            _step_of("person"),
            "Add a leader of the organization to the team (the sponsor is a natural first choice) "
            "and mark them as a leader.",
        )
    busy = {k for p in _items(plan, "practice") for k in p.get("owners") or []}
    busy |= {t.get("listener") for t in _items(plan, "listening_target")}
    active = _refs("person", (p for p in leaders if p.get("key") in busy))
    if active:
        return _Outcome(
            Status.PASS,
            f"{names(active)} {_verb(active, 'takes', 'take')} part in person, so the leadership sees what works.",
            _step_of("practice"),
        )
    idle = _refs("person", leaders)
    return _Outcome(
        Status.WARN,
        f"{names(idle)} {_verb(idle, 'is', 'are')} on the team but {_verb(idle, 'owns', 'own')} no practice "
        f"and {_verb(idle, 'listens', 'listen')} nowhere.",
        _step_of("listening_target"),
        f"Ask {display(idle[0])} to own a listening target: a few minutes a week reading what the audience says.",
        idle,
    )


@check("open_access", "Staff can take part")
def open_access(plan: PlanDoc) -> _Outcome:
    """Staff access to social sites is not blocked."""
    access = plan.get("staff_access")
    step = _step_of_field("staff_access")
    if access == "open":
        return _Outcome(Status.PASS, "Staff can reach social sites, so any colleague can help.", step)
    if access == "blocked":
        return _Outcome(
            Status.FAIL,
            "Staff cannot reach social sites at work, so they cannot help the organization take part.",
            step,
            "Ask the sponsor to open access, with staff guidelines that say what colleagues may do and say.",
        )
    if access == "partial":
        return _Outcome(
            Status.WARN,
            "Only some staff, or only some sites, are open: colleagues outside that circle cannot help.",
            step,
            "Open access at least for everyone named in this plan, and write staff guidelines for the rest.",
        )
    return _Outcome(
        Status.WARN,
        "The plan doesn't say whether staff can reach social sites at work.",
        step,
        "Say whether access is blocked, partial or open.",
    )


@check("where_they_talk", "Go where they talk")
def where_they_talk(plan: PlanDoc) -> _Outcome:
    """Every primary segment names at least one venue."""
    if not _items(plan, "segment"):
        return _no_segments()
    primary, assumed = _primary_segments(plan)
    silent = _refs("segment", (s for s in primary if not any(_text(v) for v in s.get("venues") or [])))
    if not silent:
        return _Outcome(
            Status.PASS,
            f"The plan knows where {names(_refs('segment', primary))} already talk.",
            _step_of("segment"),
        )
    message = f"{names(silent)} {_verb(silent, 'has', 'have')} no venue yet: where do they already talk?"
    if assumed:
        message += " No segment is marked primary, so the coach reads them all as primary."
    return _Outcome(
        Status.FAIL if len(silent) == len(primary) else Status.WARN,
        message,
        _step_of("segment"),
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
def real_audiences(plan: PlanDoc) -> _Outcome:
    """No segment is "everyone", "the general public" or the like."""
    segments = _items(plan, "segment")
    if not segments:
        return _no_segments()
    vague = [s for s in segments if is_vague_audience(str(s.get("name") or ""))]
    if not vague:
        return _Outcome(
            Status.PASS,
            f"Every segment names people you can picture: {names(_refs('segment', segments))}.",
            _step_of("segment"),
        )
    refs = _refs("segment", vague)
    # A vague secondary audience is a loose end; a vague primary one means nobody is the focus.
    broken = len(vague) == len(segments) or any(s.get("priority") == "primary" for s in vague)
    return _Outcome(
        Status.FAIL if broken else Status.WARN,
        f"{names(refs)} {_verb(refs, 'is', 'are')} everyone, which is nobody in particular.",
        _step_of("segment"),
        f"Split {display(refs[0])} into the groups you really need: say who they are, what they care about "
        "and where they talk.",
        refs,
    )


def _overloaded(plan: PlanDoc) -> _Problem | None:
    """The people whose share of the work is more than the hours they give (`planner.coach.load`)."""
    by_key = {p.get("key"): p for p in _items(plan, "person")}
    over = [(load, _ref("person", by_key[load.person])) for load in loads(plan) if load.person and load.is_over]
    if not over:
        return None
    said = [f"{display(ref)}: {load.summary}." for load, ref in over[: rules.NAMES_IN_MESSAGE]]
    rest = len(over) - len(said)
    if rest:
        said.append(f"{rest} more {_verb(rest, 'is', 'are')} over their hours too.")
    first = over[0][1]
    return _Problem(
        " ".join(said),
        f"Give part of {display(first)}'s work to someone with hours to spare, or shrink the practices "
        f"{display(first)} shares.",
        _step_of("person"),
        tuple(ref for _, ref in over),
    )


@check("capacity", "Time for relationships")
def capacity(plan: PlanDoc) -> _Outcome:
    """Practice hours are at least `rules.MIN_PRACTICE_HOURS` a week, within the team's hours, and
    within each person's own (`planner.coach.load`)."""
    practices = _items(plan, "practice")
    if not practices:
        return _no_practices()
    people = _items(plan, "person")
    if not people:
        return _Outcome(
            Status.FAIL,
            "The team is empty: nobody has time for these practices.",
            _step_of("person"),
            "List the people who will do the work and the hours each can give a week.",
        )
    stated = [h for p in practices if (h := hours_of(p.get("hours_per_week"))) is not None]
    practice_hours = sum(stated)
    unstated = _refs("practice", (p for p in practices if hours_of(p.get("hours_per_week")) is None))
    team = [h for p in people if (h := hours_of(p.get("hours_per_week"))) is not None]
    team_hours = sum(team)
    minimum = hours_text(rules.MIN_PRACTICE_HOURS)
    if team and practice_hours > team_hours + EPSILON:
        return _Outcome(
            Status.FAIL,
            f"The practices need {hours_text(practice_hours)} a week, but the team gives only "
            f"{hours_text(team_hours)}.",
            _step_of("person"),
            "Add people or hours, or shrink the practices, until the work fits the time the team really has.",
        )
    if practice_hours <= EPSILON:
        return _Outcome(
            Status.FAIL,
            "No hours are set aside for the practices yet.",
            _step_of("practice"),
            f"Give each practice its hours per week: relationships need at least {minimum} a week in all.",
            unstated,
        )
    problems = []
    if not _at_least(practice_hours, rules.MIN_PRACTICE_HOURS):
        problems.append(
            _Problem(
                f"The practices take only {hours_text(practice_hours)} a week; relationships need at least {minimum}.",
                "Budget more time for answering and listening, or pick fewer channels and give them real time.",
                _step_of("practice"),
            )
        )
    if unstated:
        problems.append(
            _Problem(
                f"{names(unstated)} {_verb(unstated, 'has', 'have')} no hours yet.",
                f"Say how many hours a week {display(unstated[0])} takes.",
                _step_of("practice"),
                unstated,
            )
        )
    if not team:
        problems.append(
            _Problem(
                "Nobody on the team has hours for this plan yet, so the coach can't tell whether the work fits.",
                "Give each person the hours a week they can spend on this plan.",
                _step_of("person"),
            )
        )
    overloaded = _overloaded(plan)
    if overloaded:
        problems.append(overloaded)
    if problems:
        return _combine(Status.WARN, problems)
    return _Outcome(
        Status.PASS,
        f"The practices take {hours_text(practice_hours)} a week, within the team's {hours_text(team_hours)}, "
        "and nobody is asked for more hours than they give.",
        _step_of("practice"),
    )


@check("measure_engagement", "Measure engagement")
def measure_engagement(plan: PlanDoc) -> _Outcome:
    """Every objective has a metric, and some metric counts engagement."""
    objectives = _items(plan, "objective")
    metrics = _items(plan, "metric")
    if not metrics:
        return _Outcome(
            Status.FAIL,
            "The plan has no metrics yet, so nobody will know whether it works.",
            _step_of("metric"),
            "Choose one figure per objective, starting with one that counts people taking part: "
            "replies, shares, questions answered.",
            _refs("objective", objectives),
        )
    measured = {m.get("objective") for m in metrics}
    unmeasured = _refs("objective", (o for o in objectives if o.get("key") not in measured))
    engaged = any(m.get("kind") == "engagement" for m in metrics)
    problems = []
    if not objectives:
        problems.append(
            _Problem(
                "There are no objectives yet for the metrics to measure.",
                "Write the social objectives the metrics should tell you about.",
                _step_of("objective"),
            )
        )
    if unmeasured:
        problems.append(
            _Problem(
                f"{names(unmeasured)} {_verb(unmeasured, 'has', 'have')} no metric.",
                f"Add a metric for {display(unmeasured[0])}.",
                _step_of("metric"),
                unmeasured,
            )
        )
    if not engaged:
        problems.append(
            _Problem(
                "No metric counts engagement: reach says who saw, not who took part.",
                "Add an engagement metric, such as replies, shares or conversations per month.",
                _step_of("metric"),
            )
        )
    if not problems:
        return _Outcome(
            Status.PASS,
            "Every objective has a metric, and the plan counts engagement, not only reach.",
            _step_of("metric"),
        )
    broken = not engaged and bool(objectives) and len(unmeasured) == len(objectives)
    return _combine(Status.FAIL if broken else Status.WARN, problems)


@check("ready_for_critics", "Ready for critics")
def ready_for_critics(plan: PlanDoc) -> _Outcome:
    """The response protocol is written (and every concern has an answer)."""
    step = _step_of_field("response_protocol")
    if not _text(plan.get("response_protocol")):
        return _Outcome(
            Status.FAIL,
            "The plan doesn't say how to answer criticism or negative comments.",
            step,
            "Write the response protocol: who answers criticism, how fast, and when to take a conversation offline.",
        )
    unmet = _refs("concern", (c for c in _items(plan, "concern") if not _text(c.get("mitigation"))))
    if unmet:
        return _Outcome(
            Status.WARN,
            f"The response protocol is written, but {names(unmet)} {_verb(unmet, 'has', 'have')} no answer yet.",
            _step_of("concern"),
            f"Say how the plan meets {display(unmet[0])}.",
            unmet,
        )
    return _Outcome(Status.PASS, "The response protocol says how the team answers critics.", step)


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _day(value: date) -> str:
    return long_date(value.isoformat())


def _milestone_problems(plan: PlanDoc) -> list[_Problem]:
    """Milestones dated outside the plan's period, and milestones past due but not done
    (judged on `today()`: see `rules.MILESTONES`)."""
    start, end = _iso(plan.get("period_start")), _iso(plan.get("period_end"))
    outside: list[tuple[Item, str]] = []
    late: list[tuple[Item, str]] = []
    for m in sorted(_items(plan, "milestone"), key=lambda m: str(m.get("due") or "")):  # as listed: by date
        due = _iso(m.get("due"))
        if due is None:
            continue
        if start and due < start:
            outside.append(
                (m, f"{display(_ref('milestone', m))} is due on {_day(due)}, before the plan starts ({_day(start)})")
            )
        elif end and due > end:
            outside.append(
                (m, f"{display(_ref('milestone', m))} is due on {_day(due)}, after the plan ends ({_day(end)})")
            )
        if due < today() and not m.get("done"):
            late.append((m, f"{display(_ref('milestone', m))} was due on {_day(due)} and is not done"))
    step = _step_of("milestone")
    problems = []
    for found, advice in (
        (outside, "Move {name} inside the plan's period, or change the period."),
        (late, "Mark {name} done if it is, or give it a new date and say why it slipped."),
    ):
        if not found:
            continue
        said = [text for _, text in found[: rules.NAMES_IN_MESSAGE]]
        rest = len(found) - len(said)
        message = "; ".join(said) + (f"; and {rest} more." if rest else ".")
        refs = _refs("milestone", (m for m, _ in found))
        problems.append(_Problem(message, advice.format(name=display(refs[0])), step, refs))
    return problems


@check("reflect", "Review and learn")
def reflect(plan: PlanDoc) -> _Outcome:
    """The review cadence is set (and is not too slow to learn from), and the milestones sit
    inside the plan's period and are done by their dates (`rules.MILESTONES`)."""
    cadence = plan.get("review_cadence")
    step = _step_of_field("review_cadence")
    field = plan_field("review_cadence")
    milestones = _milestone_problems(plan)
    if cadence not in field.values:
        return _combine(
            Status.FAIL,
            [
                _Problem(
                    "The plan sets no review, so nobody stops to learn what works.",
                    "Choose how often the team reviews the plan and its figures: monthly suits a first year.",
                    step,
                ),
                *milestones,
            ],
        )
    label = field.choice_label(cadence).lower()
    problems = list(milestones)
    if cadence in rules.SLOW_REVIEW_CADENCES:
        problems.insert(
            0,
            _Problem(
                f"A {label} review comes too late to learn from the first 90 days.",
                "Review monthly or quarterly, at least while the pilot runs.",
                step,
            ),
        )
    if problems:
        return _combine(Status.WARN, problems)
    return _Outcome(Status.PASS, f"The team reviews the plan {label}, and the milestones are on time.", step)


@check("focus", "No abandoned accounts")
def focus(plan: PlanDoc) -> _Outcome:
    """Every active or planned channel has an owner and serves at least one practice."""
    channels = _items(plan, "channel")
    if not channels:
        return _Outcome(
            Status.WARN,
            "The plan lists no channels, so the coach can't check that each account has an owner and a purpose.",
            _step_of("channel"),
            "List the accounts you run or plan to open.",
        )
    # An unset status counts as in use: abandoned accounts hide exactly where nobody said.
    live = [c for c in channels if c.get("status") != "retiring"]
    if not live:
        return _Outcome(
            Status.WARN,
            "Every channel is retiring, so the plan runs no account of its own.",
            _step_of("channel"),
            "If the team will talk only in other people's spaces, say so in the practices; otherwise keep one account.",
        )
    people = _keys(plan, "person")
    used = {k for p in _items(plan, "practice") for k in p.get("channels") or []}
    ownerless = _refs("channel", (c for c in live if c.get("owner") not in people))
    idle = _refs("channel", (c for c in live if c.get("key") not in used))
    problems = []
    if ownerless:
        problems.append(
            _Problem(
                f"{names(ownerless)} {_verb(ownerless, 'has', 'have')} no owner.",
                f"Give {display(ownerless[0])} an owner, or mark it retiring.",
                _step_of("channel"),
                ownerless,
            )
        )
    if idle:
        problems.append(
            _Problem(
                f"No practice uses {names(idle)} yet: an account nobody posts to or answers on is abandoned.",
                f"Use {display(idle[0])} in a practice, or mark it retiring.",
                _step_of("practice"),
                tuple(r for r in idle if r not in ownerless),
            )
        )
    if not problems:
        return _Outcome(
            Status.PASS,
            f"Every active or planned channel has an owner and a practice: {names(_refs('channel', live))}.",
            _step_of("channel"),
        )
    at_fault = {r.key for p in problems for r in p.items}
    return _combine(Status.FAIL if len(at_fault) == len(live) else Status.WARN, problems)


def run_all(plan: PlanDoc, today: date | None = None) -> tuple[Finding, ...]:
    """Every check's finding, in the order the checks are declared, as of `today` (by default
    the real today: only the milestone dates depend on it)."""
    token = _TODAY.set(today)
    try:
        return tuple(run(plan) for run in CHECKS.values())
    finally:
        _TODAY.reset(token)
