"""The `flask plan ...` commands."""

import click
from flask.cli import AppGroup

plan_cli = AppGroup("plan", help="List, import and export plans.")


@plan_cli.command("list")
def list_command() -> None:
    from planner.plans import store

    for plan in store.list_plans():
        click.echo(f"{plan.id}\t{plan.title}")
