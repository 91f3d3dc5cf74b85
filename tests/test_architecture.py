"""The house's shape: arrows run one way, and no module is too long to read alone.

Every module in planner/ sits in a layer (LAYERS). A module may import its own package and
anything in a lower layer; never a higher layer, never a sibling package of its own layer
(unless SIBLINGS allows that one arrow, with why), and never a `cli` module, which only the app
factory (planner/__init__.py) or the package's own __init__ may import. The imports are read
with `ast`, at module level and inside functions, so an import tucked into a function to dodge a
cycle still counts. A new package fails here until someone gives it a layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLANNER = Path(__file__).resolve().parent.parent / "planner"

# Bottom to top. A module is placed by its first name under planner/ (planner/plans/view.py is
# "plans"); any module named cli.py is "cli", whatever package holds it.
LAYERS: dict[str, int] = {
    # 0: words and the declaration; nothing here knows about Flask, the database or plans.
    "text": 0,
    "domain": 0,
    # 1: the app's plumbing: extensions, the unit of work, request hardening, logging, SQLite.
    "extensions": 1,
    "unit": 1,
    "security": 1,
    "ops": 1,
    "sqlite": 1,
    "serving": 1,  # gunicorn's worker and the stream server's front door; the app never imports it
    # 2: the tables every part shares.
    "models": 2,
    # 3: people: accounts, sessions, memberships, who may do what in a plan.
    "accounts": 3,
    # 4: plans themselves: storing, reading, merging and journalling their items.
    "plans": 4,
    # 5: what is said about a plan: the coach's advice, the import and export, the discussion.
    "coach": 5,
    "interchange": 5,
    "discussion": 5,
    # 6: what is made from a plan: its documents and the history pages.
    "documents": 6,
    "history": 6,
    # 7: the pages people work in: the wizard (with its conflict pages) and the workshop.
    "wizard": 7,
    "workshop": 7,
    # 8: what every page shares: template helpers, site files, error pages.
    "web": 8,
    "errors": 8,
    # 9: command-line commands (planner/cli.py and every */cli.py).
    "cli": 9,
}
TOP = 10  # planner/__init__.py, the app factory: it may import anything.

# Arrows between two packages of one layer that are allowed, {(from, to): why}. Keep it short.
SIBLINGS: dict[tuple[str, str], str] = {
    ("unit", "extensions"): "the unit of work commits the session that extensions.db holds",
    ("ops", "extensions"): "the health check asks the database and is exempt from the limiter",
    ("sqlite", "extensions"): "SQLite's listeners attach to extensions.db's engine",
}

MAX_LINES = 500  # issue 13: "no module in planner/ is over about 500 lines"


def module_name(path: Path) -> str:
    """planner/plans/view.py -> "planner.plans.view"; planner/plans/__init__.py -> "planner.plans"."""
    parts = list(path.relative_to(PLANNER.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether `name` ("planner.plans.store") is a module or package under planner/."""
    base = PLANNER.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def place(name: str) -> str:
    """The layer name a module belongs to: "planner.plans.view" -> "plans"; any cli -> "cli";
    "planner" itself (the app factory) -> "planner"."""
    parts = name.split(".")
    if parts == ["planner"]:
        return "planner"
    if parts[-1] == "cli":
        return "cli"
    return parts[1]


def imported(name: str, source: str, *, package: bool) -> list[tuple[int, str]]:
    """Every planner module that the module `name` (a package's __init__ when `package`)
    imports, with the line: relative imports resolved, `from planner import x` read as
    planner.x when x is a module, and as planner (the app factory) when it is not."""
    here = name.split(".") if package else name.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.append((node.lineno, submodule if is_module(submodule) else target))
    wanted = [(line, target) for line, target in found if target == "planner" or target.startswith("planner.")]
    return sorted(set(wanted))


def layer(place_name: str) -> int | None:
    return TOP if place_name == "planner" else LAYERS.get(place_name)


def backwards_arrows(name: str, source: str, *, package: bool = False) -> list[str]:
    """What is wrong with the imports of module `name`, one line per wrong import."""
    own = place(name)
    own_layer = layer(own)
    if own_layer is None:
        return [f"{name} is in no layer: give {own!r} a place in LAYERS"]
    problems = []
    for line, target in imported(name, source, package=package):
        where = f"{name} (line {line}) imports {target}"
        to = place(target)
        if to == "cli":
            # planner.cli is the app factory's; planner.<pkg>.cli its package's __init__'s too.
            importers = {"planner", target.rsplit(".", 1)[0]} if target != "planner.cli" else {"planner"}
            if not (package and name in importers):
                problems.append(f"{where}: only the app factory or its package's __init__ imports a cli")
            continue
        if to == own:
            continue
        to_layer = layer(to)
        if to_layer is None:
            problems.append(f"{where}, which is in no layer")
        elif to_layer > own_layer:
            problems.append(f"{where}: {to!r} (layer {to_layer}) is above {own!r} (layer {own_layer})")
        elif to_layer == own_layer and (own, to) not in SIBLINGS:
            problems.append(f"{where}: {to!r} is a sibling of {own!r} in layer {own_layer}")
    return problems


def modules() -> list[Path]:
    return sorted(PLANNER.rglob("*.py"))


def test_imports_run_one_way() -> None:
    problems = []
    for path in modules():
        problems += backwards_arrows(module_name(path), path.read_text(), package=path.name == "__init__.py")
    assert not problems, "backwards arrows:\n" + "\n".join(problems)


def test_no_module_is_too_long_to_read_alone() -> None:
    long = {}
    for path in modules():
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            long[str(path.relative_to(PLANNER.parent))] = lines
    assert not long, f"modules over {MAX_LINES} lines (split them along their seams): {long}"


@pytest.mark.parametrize(
    ("name", "source", "package", "complaint"),
    [
        # A higher layer, at module level and from inside a function.
        ("planner.plans.view", "from planner.history import records\n", False, "'history' (layer 6) is above 'plans'"),
        ("planner.plans.view", "def f():\n    import planner.wizard.routes\n", False, "imports planner.wizard.routes"),
        # `from planner import x` is planner.x; the app factory is above everything.
        ("planner.history.records", "from planner import wizard\n", False, "imports planner.wizard:"),
        ("planner.text", "from planner import create_app\n", False, "imports planner:"),
        # Relative imports are resolved, from a module and from a package's __init__.
        ("planner.plans.view", "from ..documents import render\n", False, "imports planner.documents.render"),
        ("planner.plans", "from ..history.routes import bp\n", True, "imports planner.history.routes"),
        # A sibling of the same layer.
        ("planner.coach.checks", "from planner.discussion import visits\n", False, "is a sibling of 'coach'"),
        # A cli, from anywhere but the app factory or its own package's __init__.
        ("planner.web", "from planner.cli import plan_cli\n", False, "imports a cli"),
        ("planner.accounts.users", "from planner.accounts.cli import user_cli\n", False, "imports a cli"),
        ("planner.plans", "from planner.accounts import cli\n", True, "imports a cli"),
        # A package nobody placed.
        ("planner.gadgets.thing", "import os\n", False, "give 'gadgets' a place"),
        ("planner.plans.view", "from planner.gadgets import thing\n", False, "which is in no layer"),
    ],
)
def test_the_checker_catches_a_backwards_arrow(name: str, source: str, package: bool, complaint: str) -> None:
    problems = backwards_arrows(name, source, package=package)
    assert len(problems) == 1 and complaint in problems[0], problems
    assert name in problems[0]


@pytest.mark.parametrize(
    ("name", "source", "package"),
    [
        ("planner.wizard.routes", "from planner.plans import store\nfrom planner import text\n", False),
        ("planner.plans.view", "from . import store\nfrom .models import Change\n", False),
        ("planner.accounts", "from planner.accounts.cli import user_cli\n", True),
        ("planner", "from planner.cli import plan_cli\nfrom planner.web import register_site_files\n", True),
        ("planner.accounts.cli", "from planner.plans import store\nimport click\n", False),
    ],
)
def test_the_checker_lets_arrows_that_run_down_pass(name: str, source: str, package: bool) -> None:
    assert backwards_arrows(name, source, package=package) == []
