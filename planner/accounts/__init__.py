"""Accounts: people who sign in, their membership and role in each plan, and invitations.

- `users`: accounts, passwords and reset links; `auth`: signing in and out (Flask-Login);
- `roles`: what viewer, editor and facilitator may do; `membership`: who is in which plan,
  and invitations; `planner.plans.access.plan_or_404` checks a request against both;
- `ratelimit`: the shared counters behind the limits on log-in attempts;
- `timezones`: every time shown in the reader's zone (the `when` filter);
- `routes` (log in, sign up, passwords), `member_routes` (members page, invitations), `cli`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind Flask-Login and Flask-Limiter, and register the pages and the `user` commands."""
    from planner.accounts import (
        auth,  # noqa: F401  (registers the user loader)
        ratelimit,  # noqa: F401  (registers the planner-db:// storage)
        timezones,
    )
    from planner.accounts.cli import user_cli
    from planner.accounts.member_routes import bp as members_bp
    from planner.accounts.routes import bp as accounts_bp
    from planner.extensions import limiter, login_manager
    from planner.plans.access import can

    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(members_bp)
    app.cli.add_command(user_cli)
    app.jinja_env.globals["can"] = can
    timezones.init_app(app)
