"""The workshop's pages and actions, in one blueprint (`workshop.*`) filled by the modules
here, each by what its routes are for; `common` says what they share."""

from planner.workshop.routes import channel, console, guests, projector  # noqa: F401  (each adds its routes)
from planner.workshop.routes.common import bp

__all__ = ["bp"]
