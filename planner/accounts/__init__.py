"""Accounts: people who sign in, their membership and role in each plan, and invitations.

- `users`: accounts, passwords and reset links; `auth`: signing in and out (Flask-Login);
  `sessions`: each log-in kept on the server, so that logging out ends it;
- `roles`: what viewer, editor and facilitator may do; `membership`: who is in which plan,
  and invitations; `planner.accounts.access.plan_or_404` checks a request against both;
- `ratelimit`: the shared counters behind the limits on log-in attempts;
- `timezones`: every time shown in the reader's zone (the `when` filter);
- `routes` (log in, sign up, passwords), `member_routes` (members page, invitations), `cli`.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import SecurityError


class MailNeedsBaseUrl(RuntimeError):
    """MAIL_SERVER is set without BASE_URL: mailed links would take their host from requests."""


def check_config(config: dict) -> None:
    if config.get("MAIL_SERVER") and not config.get("BASE_URL"):
        raise MailNeedsBaseUrl(
            "MAIL_SERVER is set but BASE_URL is not. Set BASE_URL to the public address of Planner "
            "(e.g. BASE_URL=https://planner.example.org): links in e-mails start with it, never "
            "with the Host header a request claims."
        )


def untrusted_host(error: Exception) -> tuple[str, int, dict[str, str]]:
    """A request for a host not in TRUSTED_HOSTS: a plain 400. No page of the site's layout:
    drawing one builds links, and there is no URL adapter for a host Flask refused."""
    return "Bad request: this server does not answer to that host name.\n", 400, {"Content-Type": "text/plain"}


def invitations_waiting() -> list:
    """For the home page: the invitations the signed-in account may accept or decline, each
    as (invitation, plan, inviter's name, role in words)."""
    from flask_login import current_user

    from planner.accounts import membership, roles

    if not current_user.is_authenticated:
        return []
    return [
        (invitation, plan, inviter, roles.role_label(invitation.role).lower())
        for invitation, plan, inviter in membership.invitations_for(current_user.id)
    ]


def init_app(app: Flask) -> None:
    """Bind Flask-Login and Flask-Limiter, and register the pages and the `user` commands.
    Refuses to start with mail set up and no BASE_URL (`check_config`)."""
    check_config(app.config)
    from planner.accounts import (
        auth,  # registers the user loader
        ratelimit,  # noqa: F401  (registers the planner-db:// storage)
        timezones,
    )
    from planner.accounts.access import can
    from planner.accounts.cli import user_cli
    from planner.accounts.member_routes import bp as members_bp
    from planner.accounts.routes import bp as accounts_bp
    from planner.extensions import limiter, login_manager

    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_error_handler(SecurityError, untrusted_host)
    # Registered before planner.sqlite's, so it runs after the request's write lock is let go.
    app.after_request(auth.touch_session)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(members_bp)
    app.cli.add_command(user_cli)
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["invitations_waiting"] = invitations_waiting
    timezones.init_app(app)
