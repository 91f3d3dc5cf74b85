"""The `flask plan ...` commands: list, import, export and load the example plan.

Each command parses its arguments and calls one service function (`planner.plans.store`,
`planner.interchange`), as a view would.  Errors go to stderr with a non-zero exit code, so
scripts can rely on them; output meant for scripts (a new plan's id) is the last line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

plan_cli = AppGroup("plan", help="List, import and export plans.")


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


@plan_cli.command("list")
def list_command() -> None:
    """List the plans: id and title, most recently changed first."""
    from planner.plans import store

    for plan in store.list_plans():
        click.echo(f"{plan.id}\t{plan.title}")


@plan_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--owner", "owner_email", required=True, help="E-mail of the account that becomes its facilitator.")
def import_command(file: Any, owner_email: str) -> None:
    """Create a plan from a JSON plan document (FILE, or - for stdin), owned by --owner.

    Prints the new plan's id on the last line. Nothing is written if the document is refused.
    """
    from planner.accounts import membership
    from planner.accounts.users import find_by_email
    from planner.interchange import ImportRefused, import_document
    from planner.interchange.transfer import max_import_bytes

    owner = find_by_email(owner_email)
    if owner is None:
        _fail(f"no account uses {owner_email!r}: create it first with `flask user create`")
    limit = max_import_bytes()
    # Read one byte past the limit, so an oversized file is refused without reading it all.
    raw = file.read(limit + 1)
    try:
        plan = import_document(raw, owner, max_bytes=limit)
    except ImportRefused as exc:
        click.echo(f"Refused {file.name}: nothing was imported.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    membership.own(plan, owner)
    click.echo(f"Imported {plan.title!r} as plan {plan.id}, with {owner.email} as its facilitator.")
    click.echo(plan.id)


@plan_cli.command("export")
@click.argument("plan_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html", "pdf", "md", "docx"]),
    default="json",
    show_default=True,
    help="What to write.",
)
@click.option("--output", "-o", default="-", show_default=True, help="File to write, or - for standard output.")
def export_command(plan_id: int, fmt: str, output: str) -> None:
    """Write plan PLAN_ID as a JSON plan document, an HTML page, a PDF, Markdown or Word."""
    from planner.interchange import export_document
    from planner.plans import store

    try:
        plan = store.get_plan(plan_id)
    except store.NotFound:
        _fail(f"no plan with id {plan_id} (see `flask plan list`)")
    document = export_document(plan)
    data = _render(fmt, document)
    if output == "-":
        if fmt in ("pdf", "docx") and sys.stdout.isatty():
            _fail("a PDF would garble the terminal: use --output FILE, or redirect the output")
        click.echo(data, nl=False)  # bytes go to the binary stream untouched
    else:
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
        click.echo(f"Wrote plan {plan.id} as {fmt} to {output}.", err=True)


def _render(fmt: str, document: dict[str, Any]) -> bytes:
    from planner.interchange import dumps

    if fmt == "json":
        return dumps(document).encode("utf-8")
    doc = document["plan"]
    # Imported here: the renderers pull in WeasyPrint and python-docx, which other commands don't need.
    from planner.coach import coach_report

    if fmt == "md":
        from planner.documents.markdown import render_markdown

        return render_markdown(doc, coach=coach_report(doc)).encode("utf-8")
    if fmt == "docx":
        from planner.documents.word import render_docx

        return render_docx(doc, coach=coach_report(doc))
    from planner.documents import render

    # The templates build links with url_for, which needs a request even on the command line.
    with current_app.test_request_context():
        if fmt == "html":
            # A file on disk cannot load /static/print.css: carry the stylesheet inside.
            return render.render_html(doc, standalone=True).encode("utf-8")
        return render.render_pdf(doc)


@plan_cli.command("coach")
@click.argument("plan_id", type=int)
def coach_command(plan_id: int) -> None:
    """Print the coach's report on plan PLAN_ID as JSON: score and checks."""
    import json

    from planner.coach import coach_report, to_json
    from planner.plans import store

    try:
        plan = store.get_plan(plan_id)
    except store.NotFound:
        _fail(f"no plan with id {plan_id} (see `flask plan list`)")
    click.echo(json.dumps(to_json(coach_report(store.load_doc(plan))), indent=2, ensure_ascii=False))


@plan_cli.command("load-example")
def load_example_command() -> None:
    """Store the example plan (the Eastside Tool Library) unless it is there already; print its id.

    It belongs to the demo account (demo@example.org), made here if missing; see the README.
    """
    from planner.accounts import membership
    from planner.accounts.users import DEMO_EMAIL, DEMO_PASSWORD, ensure_demo_account
    from planner.interchange.example import find_example, load_example

    demo = ensure_demo_account()
    plan = load_example(demo)
    if plan is None:
        plan = find_example()
        click.echo(f"The example plan is already there: {plan.title!r}.")
    else:
        membership.own(plan, demo)
        click.echo(f"Loaded the example plan {plan.title!r}.")
    click.echo(f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD!r} to open it.")
    click.echo(plan.id)
