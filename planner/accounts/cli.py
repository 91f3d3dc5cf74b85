"""The `flask user ...` commands: create an account, list accounts, print a reset link."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

user_cli = AppGroup("user", help="Create and list accounts; print password-reset links.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, as their team will see it.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for (hidden) when not given; giving it here leaves it in the shell's history.",
)
def create_command(email: str, name: str, password: str) -> None:
    """Create an account for EMAIL. Prints its id on the last line."""
    from planner.accounts.users import AccountError, create_user
    from planner.unit import unit_of_work

    try:
        with unit_of_work():
            user = create_user(email, name, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created the account {user.email} ({user.name}).")
    click.echo(user.id)


@user_cli.command("list")
def list_command() -> None:
    """List the accounts: id, e-mail, name and number of plans."""
    from sqlalchemy import func, select

    from planner.accounts.models import Membership, User
    from planner.extensions import db

    rows = db.session.execute(
        select(User.id, User.email, User.name, func.count(Membership.id))
        .outerjoin(Membership, Membership.user_id == User.id)
        .group_by(User.id, User.email, User.name)
        .order_by(User.email)
    )
    for user_id, email, name, plans in rows:
        click.echo(f"{user_id}\t{email}\t{name}\t{plans} plan{'s' if plans != 1 else ''}")


@user_cli.command("reset-link")
@click.argument("email")
def reset_link_command(email: str) -> None:
    """Print a password-reset link for EMAIL (it works for an hour, and only once).

    For a server without mail: give the link to the person, by a channel you trust.
    """
    from planner.accounts.users import LOCAL_URL, find_by_email, reset_url

    user = find_by_email(email)
    if user is None:
        raise click.ClickException(f"no account uses {email!r} (see `flask user list`)")
    # The link starts with BASE_URL, or LOCAL_URL when it is not set (`users.external_url`).
    with current_app.test_request_context(base_url=current_app.config.get("BASE_URL") or LOCAL_URL):
        click.echo(reset_url(user))
