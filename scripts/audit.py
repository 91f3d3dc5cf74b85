"""The dependency audit the test command runs: every locked package against PyPI's advisories.

What is audited is what is declared: every package pinned in the lock files (requirements.txt and
requirements-dev.txt, made by `make lock`), whether or not this machine installs it. The run also
checks that what is installed in the virtualenv is exactly the lock: nothing missing, nothing at
another version, nothing unlocked.

The advisories come from PyPI (OSV-fed). The per-project JSON (`/pypi/NAME/json`) lists the
advisories of the project's newest release; when the locked version is the newest, that is the
answer. For an older pin the script asks the per-release JSON (`/pypi/NAME/VERSION/json`), which
some networks, this project's CI among them, do not reach; then that package is NOT audited.

The run fails (exit 1) when any locked package has a known vulnerability, when any is not
audited, when nothing was audited, or when the virtualenv does not match the lock. The one
exception is `[tool.planner.audit] accept-not-audited` in pyproject.toml: a named package at an
exact version, with a reason, until a date at most 92 days ahead. It never excuses a
vulnerability, and an entry that is stale (no such pin) or past its date fails the run.

Run as: .venv/bin/python scripts/audit.py
(`--unlocked` prints the installed packages the lock does not name, for `make install`.)
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
RELEASE_JSON = "https://pypi.org/pypi/{name}/{version}/json"
TIMEOUT = 10
TRIES = 3
WORKERS = 16
LONGEST_ACCEPTANCE = dt.timedelta(days=92)


class LockError(Exception):
    """A lock file that is not a flat list of exact pins, each with its hashes."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    marker: str | None
    hashes: tuple[str, ...]
    source: str  # which lock file

    def applies(self) -> bool:
        """Whether this pin is for this interpreter and platform (its environment marker)."""
        return self.marker is None or Marker(self.marker).evaluate()


def read_lock(path: Path) -> list[Pin]:
    """The pins of one lock file, as pip reads it: backslash-continued lines, `#` comments."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins = []
    for number, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if not line:
            continue
        hashes = tuple(re.findall(r"--hash=(\S+)", line))
        spec = re.sub(r"--hash=\S+", "", line).strip()
        where = f"{path.name}, line {number}"
        if spec.startswith("-"):
            raise LockError(f"{where}: option {spec.split()[0]} in a lock file (a lock is a flat list of pins)")
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as error:
            raise LockError(f"{where}: {error}") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            raise LockError(f"{where}: {requirement.name} is not pinned to one version (NAME==VERSION)")
        if not hashes:
            raise LockError(f"{where}: {requirement.name} has no --hash")
        marker = str(requirement.marker) if requirement.marker else None
        pins.append(Pin(canonical(requirement.name), specifiers[0].version, marker, hashes, path.name))
    return pins


def read_locks(root: Path = ROOT) -> list[Pin]:
    pins = []
    for name in LOCK_FILES:
        path = root / name
        if not path.exists():
            raise LockError(f"{name} is missing: run `make lock`")
        pins += read_lock(path)
    return pins


# --- advisories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    summary: str = ""

    def describe(self) -> str:
        names = ", ".join((self.id, *self.aliases))
        fixed = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed version yet"
        summary = f": {self.summary}" if self.summary else ""
        return f"{names} ({fixed}){summary}"


@dataclass(frozen=True)
class Answer:
    """What the advisory source says of one pin: audited with its advisories, or why not."""

    audited: bool
    advisories: tuple[Advisory, ...] = ()
    reason: str = ""


Source = Callable[[str, str], Answer]
Fetch = Callable[[str], dict | None]


def fetch_json(url: str, *, tries: int = TRIES, opener=urllib.request.urlopen, pause: float = 1.0) -> dict | None:
    """The JSON at url, None if it is not there (404); retries transient errors, then raises OSError."""
    for attempt in range(1, tries + 1):
        try:
            with opener(url, timeout=TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            last = f"HTTP {error.code}"
            if error.code < 500 and error.code != 429:
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
            last = str(getattr(error, "reason", None) or error)
        if attempt < tries:
            time.sleep(pause * attempt)
    raise OSError(f"{url}: {last} (tried {attempt} times)")


def parse_advisories(document: dict) -> tuple[Advisory, ...]:
    return tuple(
        Advisory(
            id=v.get("id") or "unnamed advisory",
            aliases=tuple(v.get("aliases") or ()),
            fixed_in=tuple(v.get("fixed_in") or ()),
            summary=" ".join((v.get("summary") or "").split())[:160],
        )
        for v in document.get("vulnerabilities") or ()
        if not v.get("withdrawn")
    )


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def pypi_source(fetch: Fetch = fetch_json) -> Source:
    """Advisories from PyPI: the project JSON when the pin is the newest release, else the release JSON."""
    project_json = functools.lru_cache(maxsize=None)(lambda name: fetch(PROJECT_JSON.format(name=name)))

    def answer(name: str, version: str) -> Answer:
        try:
            project = project_json(name)
            if project is None:
                return Answer(False, reason=f"PyPI has no project named {name}")
            newest = project["info"]["version"]
            if same_version(newest, version):
                return Answer(True, parse_advisories(project))
            release = fetch(RELEASE_JSON.format(name=name, version=version))
        except OSError as error:
            return Answer(False, reason=f"PyPI did not answer: {error}")
        except (KeyError, TypeError) as error:
            return Answer(False, reason=f"PyPI's answer has no {error}")
        if release is None:
            return Answer(
                False,
                reason=(
                    f"not PyPI's newest release ({newest}), and PyPI lists advisories for its newest release only "
                    "on this network (the per-release JSON is out of reach). Upgrade it (its pin in the .in file, "
                    f'or `make lock LOCK_ARGS="--upgrade-package {name}"`), or accept it in pyproject.toml'
                ),
            )
        return Answer(True, parse_advisories(release))

    return answer


# --- the verdict -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """A pin the maintainers accept unaudited, with why, until a date."""

    name: str
    version: str
    until: dt.date
    reason: str


def read_acceptances(pyproject: Path = ROOT / "pyproject.toml") -> list[Acceptance]:
    table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("planner", {}).get("audit", {})
    accepted = []
    for entry in table.get("accept-not-audited", []):
        name, _, version = entry["package"].partition("==")
        accepted.append(Acceptance(canonical(name), version, dt.date.fromisoformat(entry["until"]), entry["reason"]))
    return accepted


@dataclass
class Report:
    audited: int = 0
    packages: int = 0
    vulnerable: list[str] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.vulnerable or self.not_audited or self.problems) or self.audited == 0

    def lines(self) -> list[str]:
        out = [
            f"dependency audit: {self.audited} of {self.packages} locked packages audited against PyPI's advisories, "
            f"{len(self.vulnerable)} known vulnerable, {len(self.not_audited)} not audited"
            + (f", {len(self.accepted)} accepted unaudited (pyproject.toml)" if self.accepted else "")
        ]
        out += [f"  VULNERABLE: {line}" for line in self.vulnerable]
        out += [f"  NOT AUDITED: {line}" for line in self.not_audited]
        out += [f"  accepted unaudited: {line}" for line in self.accepted]
        out += [f"  FAILED: {line}" for line in self.problems]
        if self.audited == 0:
            out.append("  FAILED: nothing was audited, so nothing is known to be safe")
        out.append("dependency audit " + ("FAILED" if self.failed else "passed"))
        return out


def audit(
    pins: Iterable[Pin],
    source: Source,
    accepted: Iterable[Acceptance] = (),
    today: dt.date | None = None,
    workers: int = WORKERS,
) -> Report:
    """Ask source about each distinct locked (name, version), and judge the answers."""
    today = today or dt.date.today()
    distinct = sorted({(pin.name, pin.version) for pin in pins})
    report = Report(packages=len(distinct))
    if not distinct:
        report.problems.append("the lock files pin no package")
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(distinct)))) as pool:
        answers = list(pool.map(lambda pin: source(*pin), distinct))
    acceptances = {(a.name, a.version): a for a in accepted}
    for (name, version), answer in zip(distinct, answers, strict=True):
        if answer.audited:
            report.audited += 1
            report.vulnerable += [f"{name} {version}: {advisory.describe()}" for advisory in answer.advisories]
            continue
        acceptance = acceptances.get((name, version))
        if acceptance is None:
            report.not_audited.append(f"{name} {version}: {answer.reason}")
        elif acceptance.until < today:
            report.not_audited.append(
                f"{name} {version}: {answer.reason}. Its acceptance in pyproject.toml ran out on {acceptance.until}"
            )
        elif acceptance.until - today > LONGEST_ACCEPTANCE:
            report.problems.append(
                f"the acceptance of {name} {version} runs to {acceptance.until}, more than "
                f"{LONGEST_ACCEPTANCE.days} days ahead: review it sooner"
            )
        else:
            report.accepted.append(f"{name} {version} until {acceptance.until}: {acceptance.reason}")
    for name, version in sorted(set(acceptances) - set(distinct)):
        report.problems.append(f"pyproject.toml accepts {name} {version} unaudited, but the lock has no such pin")
    return report


def installed_packages() -> dict[str, str]:
    """Every distribution this interpreter sees (the virtualenv's), canonical name -> version."""
    return {canonical(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}


def installed_vs_locked(pins: Iterable[Pin], installed: dict[str, str]) -> list[str]:
    """How the virtualenv differs from the lock's pins for this platform (empty when it matches)."""
    wanted = {pin.name: pin.version for pin in pins if pin.applies()}
    problems = []
    for name in sorted(wanted.keys() - installed.keys()):
        problems.append(f"{name} {wanted[name]} is locked but not installed: run `make install`")
    for name in sorted(installed.keys() - wanted.keys()):
        problems.append(f"{name} {installed[name]} is installed but not locked: add it to an .in file, or remove it")
    for name in sorted(wanted.keys() & installed.keys()):
        if not same_version(wanted[name], installed[name]):
            problems.append(f"{name} is installed at {installed[name]}, locked at {wanted[name]}: run `make install`")
    return problems


def main(argv: list[str]) -> int:
    try:
        pins = read_locks()
    except LockError as error:
        print(f"dependency audit FAILED: {error}", file=sys.stderr)
        return 1
    if argv == ["--unlocked"]:
        wanted = {pin.name for pin in pins if pin.applies()}
        print(" ".join(sorted(installed_packages().keys() - wanted)))
        return 0
    started = time.monotonic()
    report = audit(pins, pypi_source(), read_acceptances())
    report.problems += installed_vs_locked(pins, installed_packages())
    for line in report.lines():
        print(line)
    print(f"  ({time.monotonic() - started:.1f} s, lock files: {', '.join(LOCK_FILES)})")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
