"""The one declaration of Planner's domain.

The plan's own fields, the ten entities and the nine wizard steps are declared here and
nowhere else.  The models, the wizard's forms, the JSON format, the document and the coach
all read this module.  Adding a field to an entity means one line here and one migration.
"""

from __future__ import annotations

from planner.domain.limits import ITEM_LONG_TEXT, NAME_TEXT, TITLE_TEXT
from planner.domain.spec import (
    Entity,
    Field,
    Step,
    choices,
    date,
    enum,
    enums,
    flag,
    longtext,
    number,
    ref,
    refs,
    strings,
    text,
)

FORMAT_NAME = "web20-plan"
FORMAT_VERSION = 1

CADENCES = choices("daily", "weekly", "monthly", "quarterly", "yearly", ("per_event", "Per event"))

PLAN_FIELDS = (
    text("title", "Plan title", required=True, help="What the team calls this plan."),
    text("organization", "Organization"),
    longtext("mission", "Mission", help="Why the organization exists, in a sentence or two."),
    longtext("vision", "Vision", help="What the world looks like if the organization succeeds."),
    text("sponsor", "Sponsor", help="The senior person who backs this plan and signs it off."),
    date("period_start", "Plan starts"),
    date("period_end", "Plan ends"),
    enum(
        "staff_access",
        "Staff access to social sites today",
        choices(
            ("blocked", "Blocked", "Staff cannot reach social sites at work."),
            ("partial", "Partial", "Some sites or some people only."),
            ("open", "Open", "Anyone may take part."),
        ),
    ),
    enum(
        "leadership_participation",
        "How far leaders take part",
        choices(
            ("none", "Not at all", "Leaders do not use the tools themselves."),
            ("some", "Some", "Leaders read, and now and then take part."),
            ("active", "Actively", "Leaders listen and join conversations themselves."),
        ),
    ),
    enum(
        "review_cadence",
        "How often we review the plan",
        choices("weekly", "monthly", "quarterly", "yearly"),
    ),
    longtext("voice", "Our voice", help="How we sound online: words we use, words we avoid."),
    longtext(
        "staff_guidelines",
        "Staff guidelines",
        help="What any colleague may do and say online, so that many people can take part.",
    ),
    longtext(
        "response_protocol",
        "Response protocol",
        help="How we answer criticism and negative comments, who answers, and how fast.",
    ),
)

ENTITIES = (
    Entity(
        name="goal",
        collection="goals",
        label="Goal",
        label_plural="Goals",
        key_prefix="g",
        title_field="statement",
        max_items=40,
        help="A strategic goal of the organization, true with or without social media.",
        fields=(
            text("statement", "Goal", required=True),
            longtext("why", "Why it matters", max_length=ITEM_LONG_TEXT),
        ),
    ),
    Entity(
        name="objective",
        collection="objectives",
        label="Social objective",
        label_plural="Social objectives",
        key_prefix="o",
        title_field="statement",
        max_items=60,
        help="What taking part in social media should achieve for one goal.",
        fields=(
            ref("goal", "Serves goal", "goal", required=True),
            text("statement", "Objective", required=True),
            text("success_measure", "We will know it worked when"),
            enum(
                "kind",
                "Kind of objective",
                choices(
                    "listen_and_learn",
                    "build_relationships",
                    "raise_awareness",
                    "manage_reputation",
                    ("supporter_content", "Supporter content"),
                    "drive_action",
                    "drive_traffic",
                    "change_norms",
                    "provide_support",
                    ("build_capacity", "Build capacity", "Skills and habits inside the organization."),
                ),
            ),
        ),
    ),
    Entity(
        name="segment",
        collection="segments",
        label="Audience segment",
        label_plural="Audience segments",
        key_prefix="s",
        title_field="name",
        max_items=60,
        help="A group of people specific enough to picture: not 'the public'.",
        fields=(
            text("name", "Name", required=True, max_length=NAME_TEXT),
            enum("priority", "Priority", choices("primary", "secondary")),
            strings("cares_about", "What they care about", help="One per line."),
            longtext("currently_believes", "What they believe now", max_length=ITEM_LONG_TEXT),
            longtext("barriers", "What stops them taking part", max_length=ITEM_LONG_TEXT),
            longtext("desired_change", "What we hope changes", max_length=ITEM_LONG_TEXT),
            longtext("value_to_them", "What we offer them", max_length=ITEM_LONG_TEXT),
            strings("venues", "Where they already talk", help="Forums, groups, hashtags, sites. One per line."),
            strings("influencers", "Whom they listen to", help="One per line."),
            enums(
                "participation",
                "How they take part online",
                choices(
                    ("creators", "Creators", "Publish their own posts, videos or blogs."),
                    ("conversationalists", "Conversationalists", "Update and chat often."),
                    ("critics", "Critics", "Comment, review and rate."),
                    ("collectors", "Collectors", "Save, tag and share links."),
                    ("joiners", "Joiners", "Keep profiles and join groups."),
                    ("spectators", "Spectators", "Read and watch."),
                    ("inactives", "Inactives", "Are not online in this way."),
                ),
            ),
        ),
    ),
    Entity(
        name="person",
        collection="people",
        label="Person",
        label_plural="People",
        key_prefix="p",
        title_field="name",
        max_items=60,
        help="Someone who will do the work. Many voices, not one or two.",
        fields=(
            text("name", "Name", required=True, max_length=NAME_TEXT),
            text("role", "Role"),
            flag("is_leader", "Is a leader of the organization"),
            number("hours_per_week", "Hours per week for this plan"),
            text("training_needs", "Training needs"),
        ),
    ),
    Entity(
        name="channel",
        collection="channels",
        label="Channel",
        label_plural="Channels",
        key_prefix="c",
        title_field="name",
        max_items=40,
        help="An account or place the organization runs: a page, a forum, a list.",
        fields=(
            text("name", "Name", required=True, max_length=NAME_TEXT),
            enum("status", "Status", choices("active", "planned", "retiring")),
            text("purpose", "What it is for"),
            ref("owner", "Owner", "person"),
            refs("segments", "Audiences it serves", "segment"),
        ),
    ),
    Entity(
        name="listening_target",
        collection="listening_targets",
        label="Listening target",
        label_plural="Listening targets",
        key_prefix="l",
        title_field="venue",
        max_items=80,
        help="A place to listen before speaking.",
        fields=(
            text("venue", "Where we listen", required=True),
            refs("segments", "Whom we hear there", "segment"),
            strings("keywords", "Keywords and names to follow", help="One per line."),
            text("informs_decision", "Which decision it informs"),
            ref("listener", "Who listens", "person"),
            text("share_findings", "How findings are shared"),
            enum("cadence", "How often", CADENCES),
        ),
    ),
    Entity(
        name="practice",
        collection="practices",
        label="Practice",
        label_plural="Practices",
        key_prefix="pr",
        title_field="description",
        max_items=150,
        help="A regular way the team takes part in conversations.",
        fields=(
            text("description", "Practice", required=True, max_length=TITLE_TEXT),
            ref("objective", "Serves objective", "objective"),
            refs("segments", "With which audiences", "segment"),
            refs("channels", "On which channels", "channel"),
            refs("owners", "Who does it", "person"),
            number("hours_per_week", "Hours per week"),
            enum("cadence", "How often", CADENCES),
            enum(
                "mode",
                "Mode",
                choices(
                    ("listen", "Listen", "Read and learn before speaking."),
                    ("respond", "Respond", "Answer questions and comments."),
                    ("amplify", "Amplify", "Pass on what others say."),
                    ("host", "Host", "Run a space where others talk."),
                    ("collaborate", "Collaborate", "Make something together with others."),
                    ("enable", "Enable", "Help colleagues or partners take part: training, toolkits, coaching."),
                    ("broadcast", "Broadcast", "Tell people about ourselves. One-way."),
                ),
            ),
            enum(
                "engagement_level",
                "Engagement level",
                choices("observing", "following", "endorsing", "contributing", "owning", "leading"),
            ),
        ),
    ),
    Entity(
        name="concern",
        collection="concerns",
        label="Concern",
        label_plural="Concerns",
        key_prefix="cn",
        title_field="concern",
        max_items=40,
        help="A worry someone has raised, and how the plan meets it.",
        fields=(
            text("concern", "Concern", required=True, max_length=TITLE_TEXT),
            longtext("mitigation", "How we meet it", max_length=ITEM_LONG_TEXT),
        ),
    ),
    Entity(
        name="metric",
        collection="metrics",
        label="Metric",
        label_plural="Metrics",
        key_prefix="m",
        title_field="name",
        max_items=80,
        help="A figure that tells whether an objective is being met.",
        fields=(
            ref("objective", "Measures objective", "objective"),
            text("name", "Metric", required=True),
            text("baseline", "Where we are now"),
            text("target", "Target"),
            text("data_source", "Where the figure comes from"),
            enum(
                "kind",
                "Kind",
                choices(
                    ("engagement", "Engagement", "Replies, shares, conversations: people taking part."),
                    ("reach", "Reach", "How many saw it."),
                    ("outcome", "Outcome", "A change in the world the goal cares about."),
                    ("activity", "Activity", "What we did."),
                ),
            ),
        ),
    ),
    Entity(
        name="milestone",
        collection="milestones",
        label="Milestone",
        label_plural="Milestones",
        key_prefix="ms",
        title_field="title",
        max_items=60,
        help="A dated step in the first 90 days.",
        order_by="due",
        fields=(
            text("title", "Milestone", required=True),
            date("due", "Due"),
            ref("owner", "Owner", "person"),
            flag("done", "Done"),
        ),
    ),
)

ENTITY_BY_NAME = {e.name: e for e in ENTITIES}
ENTITY_BY_COLLECTION = {e.collection: e for e in ENTITIES}


def plan_field(name: str) -> Field:
    """The plan's own field `name`: a handle to resolve at import (KeyError if undeclared)."""
    for f in PLAN_FIELDS:
        if f.name == name:
            return f
    raise KeyError(name)


def entity(name: str) -> Entity:
    """The entity `name`: a handle to resolve at import, as in
    `HOURS = entity("practice").field("hours_per_week")` (KeyError if undeclared)."""
    return ENTITY_BY_NAME[name]


STEPS = (
    Step(
        1,
        "starting-point",
        "Starting point",
        "Say who you are, what the plan covers and where you start from today: "
        "whether staff can reach social sites, how far leaders take part, and which accounts you run.",
        "The Eastside Tool Library lends tools to neighbours. Its plan runs for a year, "
        "the board chair sponsors it, staff can use social sites freely, and leaders only read. "
        "It runs a Facebook page and plans a neighbourhood forum thread.",
        plan_fields=(
            "title",
            "organization",
            "mission",
            "vision",
            "sponsor",
            "period_start",
            "period_end",
            "staff_access",
            "leadership_participation",
        ),
        entities=("channel",),
        required_fields=("title", "organization", "staff_access", "leadership_participation"),
        tips=(
            "Staff who cannot reach the sites cannot help: say honestly where access stands.",
            "Leaders who never use the tools find it hard to judge them.",
        ),
    ),
    Step(
        2,
        "goals",
        "Goals",
        "Start from what the organization wants to achieve, with or without social media. "
        "Then write social objectives, each serving one goal.",
        "Goal: more households borrow instead of buying. "
        "Objective (build relationships): become the place neighbours ask about repairs.",
        entities=("goal", "objective"),
        required_entities=("goal", "objective"),
        tips=("Technology grows out of strategy: no channel is a goal.",),
    ),
    Step(
        3,
        "audiences",
        "Audiences",
        "Name the groups you need to reach, what each cares about, and where they already talk.",
        "New parents on the east side care about saving money and space; "
        "they talk in a local parents' group and on the school's message board.",
        entities=("segment",),
        required_entities=("segment",),
        tips=("'Everyone' is not an audience: pick people you can picture.",),
    ),
    Step(
        4,
        "team",
        "Team",
        "List the people who will do the work, their roles and the hours they can give each week.",
        "Three volunteers, the coordinator and one board member, two hours a week each.",
        entities=("person",),
        required_entities=("person",),
        tips=("Many voices beat one approved spokesperson.",),
    ),
    Step(
        5,
        "listening",
        "Listening",
        "Decide where to listen, for which audience, with which words, to inform which decision, and who listens.",
        "A volunteer reads the parents' group each week for questions about repairs and reports to the team meeting.",
        entities=("listening_target",),
        required_entities=("listening_target",),
        tips=("Listen before you speak: every primary audience needs a listening post.",),
    ),
    Step(
        6,
        "engagement",
        "Engagement",
        "Describe how the team takes part: answering, passing on others' news, hosting, working together, "
        "and helping colleagues join in. Be honest about broadcasting too. Then set the voice, "
        "the staff guidelines and how you answer criticism.",
        "Each week two volunteers answer repair questions in the parents' group (respond), "
        "and share neighbours' repair stories on the page (amplify).",
        plan_fields=("voice", "staff_guidelines", "response_protocol"),
        entities=("practice", "concern"),
        required_fields=("response_protocol",),
        required_entities=("practice",),
        tips=("Pass on what others say, not only news about yourselves.",),
    ),
    Step(
        7,
        "measurement",
        "Measurement",
        "Choose a few figures for each objective, engagement before reach, and how often you review them.",
        "Repair questions answered per month, from 0 today to 20 by spring, counted from the group.",
        plan_fields=("review_cadence",),
        entities=("metric",),
        required_fields=("review_cadence",),
        required_entities=("metric",),
        tips=("Count conversations before you count followers.",),
    ),
    Step(
        8,
        "first-90-days",
        "First 90 days",
        "Plan a small pilot first: milestones with owners and dates.",
        "Week 2: the team agrees the response protocol. Week 6: first repair café live thread.",
        entities=("milestone",),
        required_entities=("milestone",),
        tips=("Start small, learn, then grow.",),
    ),
    Step(
        9,
        "review",
        "Review",
        "Read the whole plan, check it with the team, and download it to print and sign.",
        "",
    ),
)

STEP_BY_SLUG = {s.slug: s for s in STEPS}
# The step that edits nothing: the whole plan read at once, with the coach's report, to check
# with the team and sign.  Code that treats it apart (the wizard's last page, the coach's list
# of open steps) names it through this handle, never by its slug.
REVIEW_STEP = STEP_BY_SLUG["review"]
# The step where each entity's items are edited; references link there.
STEP_OF_ENTITY = {name: step for step in STEPS for name in step.entities}
STEP_OF_PLAN_FIELD = {name: step for step in STEPS for name in step.plan_fields}
