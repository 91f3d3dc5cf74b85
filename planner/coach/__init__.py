"""The coach: reads a plan and says how social it is, check by check.

Everything here is a plain function of a plan document (the interchange format's ``plan``
object), so the wizard, the review page, the PDF and the CLI share it and tests need no app.

* `checks`: the fourteen checks, each ``plan -> Finding``, one module per group of checks.
* `fields`: the declared entities, fields and choices the coach reads, resolved at import,
  so a renamed field stops the app at start-up instead of silently reading as unset.
* `rules`: every threshold and weight, each with its reason; what pass, warn and fail mean.
* `report`: the whole report with its score, JSON form, the advice for one wizard step, and
  `grouped`, which says a gap several checks meet once.
* `load`: each person's hours against what they give, for the coach, the wizard and the document.
* `picture`: an SVG of where the plan sits between broadcast and conversation.
"""

from planner.coach.checks import CHECKS, Balance, Finding, ItemRef, Status
from planner.coach.picture import picture_svg
from planner.coach.report import Advice, Report, coach_report, findings_for_step, grouped, score, to_json

__all__ = [
    "CHECKS",
    "Advice",
    "Balance",
    "Finding",
    "ItemRef",
    "Report",
    "Status",
    "coach_report",
    "findings_for_step",
    "grouped",
    "picture_svg",
    "score",
    "to_json",
]
