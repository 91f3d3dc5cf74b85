"""The `flask plan ...` commands: list, import, export (one plan, or all as a backup) and load the example plan.

Each command parses its arguments and calls one service function (`planner.plans.store`,
`planner.interchange`), as a view would.  A command that writes does so in a unit of work
(`planner.unit.unit_of_work`), as a request does: all of it is kept, or none.  Errors go to
stderr with a non-zero exit code, so scripts can rely on them; output meant for scripts (a new
plan's id) is the last line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from planner.unit import unit_of_work

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
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--owner", "owner_email", required=True, help="E-mail of the account that becomes its facilitator.")
def import_command(paths: tuple[Path, ...], owner_email: str) -> None:
    """Create plans from JSON plan documents, owned by --owner.

    PATHS are files, directories (every *.json in them, as `plan export --all` wrote them,
    in the order of their plan ids) or - for standard input. Every document is checked before
    any is stored: if one is refused, nothing is imported. Prints each new plan's id on the
    line after its report, so with one file the id is the last line.
    """
    from planner.accounts.users import find_by_email
    from planner.extensions import db
    from planner.interchange import import_data

    owner = find_by_email(owner_email)
    if owner is None:
        _fail(f"no account uses {owner_email!r}: create it first with `flask user create`")
    files = _documents_in(paths)
    if not files:
        _fail("no .json files in " + ", ".join(str(p) for p in paths))
    documents = [(name, _checked_document(name, raw)) for name, raw in files]
    refused = [name for name, document in documents if document is None]
    if refused:
        if len(files) > 1:
            click.echo(f"Nothing was imported: {len(refused)} of {len(files)} files refused.", err=True)
        sys.exit(1)
    for name, document in documents:
        # Each plan is written in a transaction of its own, begun just now: one that began by
        # reading before the checks could hold a snapshot that is stale by now (SQLite refuses
        # to write from one, see planner/sqlite.py).
        db.session.rollback()
        with unit_of_work():
            plan = import_data(document, owner, owner=owner)
        source = "" if len(files) == 1 else f" from {name}"
        click.echo(f"Imported {plan.title!r}{source} as plan {plan.id}, with {owner.email} as its facilitator.")
        click.echo(plan.id)


def _documents_in(paths: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file named, and of every *.json in every directory named."""
    from planner.interchange.transfer import max_import_bytes

    limit = max_import_bytes()
    found: list[tuple[str, bytes]] = []
    for path in paths:
        if str(path) == "-":
            # Read one byte past the limit, so an oversized input is refused without reading it all.
            with click.open_file("-", "rb") as stdin:
                found.append(("<stdin>", stdin.read(limit + 1)))
            continue
        members = sorted(path.glob("*.json"), key=_backup_order) if path.is_dir() else [path]
        for member in members:
            try:
                with member.open("rb") as file:
                    found.append((str(member), file.read(limit + 1)))
            except OSError as exc:
                _fail(f"cannot read {member}: {exc.strerror}")
    return found


def _backup_order(path: Path) -> tuple[int, str]:
    """`plan export --all` names files `<id>-<slug>.json`: restore them in the order of their ids."""
    number, _, _ = path.name.partition("-")
    return (int(number) if number.isdigit() else sys.maxsize, path.name)


def _checked_document(name: str, raw: bytes) -> dict[str, Any] | None:
    """The parsed document if an import would take it; else None, with the reasons on stderr."""
    from planner.interchange import DocumentRefused, parse_document, validate_document
    from planner.interchange.transfer import max_import_bytes

    try:
        document = parse_document(raw, max_bytes=max_import_bytes())
        validate_document(document)
    except DocumentRefused as exc:
        click.echo(f"Refused {name}: nothing was imported.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        return None
    return document


@plan_cli.command("export")
@click.argument("plan_id", type=int, required=False)
@click.option("--all", "export_all", is_flag=True, help="Every plan, as JSON, one file each in the --output directory.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html", "pdf", "md", "docx"]),
    default="json",
    show_default=True,
    help="What to write.",
)
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    help="File to write, or - for standard output; with --all, a directory.",
)
def export_command(plan_id: int | None, export_all: bool, fmt: str, output: str) -> None:
    """Write plan PLAN_ID as a JSON plan document, an HTML page, a PDF, Markdown or Word.

    With --all, write every plan as JSON into the --output directory (made if missing), one
    file per plan named <id>-<slug>.json: a backup that `plan import DIR --owner EMAIL` restores.
    """
    if export_all:
        if plan_id is not None:
            _fail("give a plan id or --all, not both")
        if fmt != "json" or output == "-":
            _fail("--all writes JSON files into a directory: use --output DIR (and no --format)")
        _export_all(Path(output))
        return
    if plan_id is None:
        _fail("give the id of a plan to export (see `flask plan list`), or --all")

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


def _export_all(directory: Path) -> None:
    """Every plan as `<id>-<slug>.json` in `directory`, each written aside and renamed into
    place, so a backup interrupted half-way holds whole files only."""
    from sqlalchemy import select

    from planner.extensions import db
    from planner.interchange import dumps, export_document
    from planner.interchange.transfer import slugify
    from planner.models import Plan

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot make the directory {directory}: {exc.strerror}")
    plan_ids = list(db.session.scalars(select(Plan.id).order_by(Plan.id)))
    for plan_id in plan_ids:
        plan = db.session.get(Plan, plan_id)
        target = directory / f"{plan.id}-{slugify(plan.title or '')}.json"
        _write_atomically(target, dumps(export_document(plan)).encode("utf-8"))
        click.echo(f"Wrote plan {plan.id} to {target}")
        db.session.expunge_all()  # a big database is read one plan at a time
    click.echo(f"Wrote {len(plan_ids)} plan{'s' if len(plan_ids) != 1 else ''} to {directory}.")


def _write_atomically(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _fail(f"cannot write {target}: {exc.strerror}")


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
    from planner.accounts.users import DEMO_EMAIL, DEMO_PASSWORD, ensure_demo_account
    from planner.interchange.example import find_example, load_example

    with unit_of_work():  # the demo account and its plan, together or not at all
        demo = ensure_demo_account()
        plan = load_example(demo, owner=demo)
    if plan is None:
        plan = find_example()
        click.echo(f"The example plan is already there: {plan.title!r}.")
    else:
        click.echo(f"Loaded the example plan {plan.title!r}.")
    click.echo(f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD!r} to open it.")
    click.echo(plan.id)
