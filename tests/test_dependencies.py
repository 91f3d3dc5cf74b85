"""The dependency lock and the audit that `make test` runs over it (scripts/audit.py).

The verdict is tested with a fake advisory source, so these run offline and fast; the real
source (PyPI) is asked by the audit stage of scripts/test.sh.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_audit():
    spec = importlib.util.spec_from_file_location("planner_audit", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


audit = _load_audit()
TODAY = dt.date(2026, 12, 3)


def pin(name, version, marker=None):
    return audit.Pin(name, version, marker, ("sha256:" + "0" * 64,), "requirements.txt")


def source_from(table):
    """A fake advisory source: (name, version) -> Answer, from a dict; anything else is unaudited."""
    return lambda name, version: table.get((name, version), audit.Answer(False, reason="no answer"))


CLEAN = audit.Answer(True)
PINS = [pin("flask", "3.1.3"), pin("jinja2", "3.1.6")]


def test_a_known_vulnerability_fails_the_run_naming_it_and_the_fixed_version():
    advisory = audit.Advisory("PYSEC-2026-1", ("CVE-2026-1234",), ("3.1.7",), "sandbox escape")
    answers = {("flask", "3.1.3"): CLEAN, ("jinja2", "3.1.6"): audit.Answer(True, (advisory,))}
    report = audit.audit(PINS, source_from(answers))
    assert report.failed
    assert report.vulnerable == ["jinja2 3.1.6: PYSEC-2026-1, CVE-2026-1234 (fixed in 3.1.7): sandbox escape"]
    assert "dependency audit FAILED" in report.lines()


def test_a_locked_package_left_unaudited_fails_the_run_saying_which_and_why():
    answers = {("flask", "3.1.3"): CLEAN, ("jinja2", "3.1.6"): audit.Answer(False, reason="PyPI did not answer")}
    report = audit.audit(PINS, source_from(answers))
    assert report.failed
    assert report.audited == 1
    assert report.not_audited == ["jinja2 3.1.6: PyPI did not answer"]


def test_a_run_that_audits_nothing_fails():
    report = audit.audit(PINS, source_from({}))
    assert report.failed and report.audited == 0
    assert any("nothing was audited" in line for line in report.lines())
    empty = audit.audit([], source_from({}))
    assert empty.failed and "the lock files pin no package" in empty.problems


def test_all_clean_passes_and_each_version_is_asked_once():
    asked = []

    def source(name, version):
        asked.append((name, version))
        return CLEAN

    pins = [*PINS, pin("flask", "3.1.3"), pin("deprecated", "1.3.1", "python_full_version < '3.12'")]
    report = audit.audit(pins, source)
    assert not report.failed
    assert (report.audited, report.packages) == (3, 3)
    assert sorted(asked) == [("deprecated", "1.3.1"), ("flask", "3.1.3"), ("jinja2", "3.1.6")]
    assert report.lines()[-1] == "dependency audit passed"


def test_an_acceptance_excuses_one_exact_unaudited_version_until_its_date():
    answers = {("flask", "3.1.3"): CLEAN}
    accept = audit.Acceptance("jinja2", "3.1.6", dt.date(2027, 1, 15), "reviewed")

    report = audit.audit(PINS, source_from(answers), [accept], today=TODAY)
    assert not report.failed
    assert report.accepted == ["jinja2 3.1.6 until 2027-01-15: reviewed"]

    other_version = audit.audit([pin("jinja2", "3.1.5"), PINS[0]], source_from(answers), [accept], today=TODAY)
    assert other_version.failed  # not audited, and the acceptance names a pin that is gone
    assert other_version.not_audited == ["jinja2 3.1.5: no answer"]
    assert any("no such pin" in line for line in other_version.problems)

    expired = audit.audit(PINS, source_from(answers), [accept], today=dt.date(2027, 1, 16))
    assert expired.failed and "ran out on 2027-01-15" in expired.not_audited[0]

    too_long = audit.Acceptance("jinja2", "3.1.6", TODAY + dt.timedelta(days=200), "forever")
    assert audit.audit(PINS, source_from(answers), [too_long], today=TODAY).failed


def test_an_acceptance_never_excuses_a_vulnerability():
    vulnerable = audit.Answer(True, (audit.Advisory("GHSA-xxxx"),))
    accept = audit.Acceptance("jinja2", "3.1.6", dt.date(2027, 1, 15), "reviewed")
    report = audit.audit(PINS, source_from({("flask", "3.1.3"): CLEAN, ("jinja2", "3.1.6"): vulnerable}), [accept])
    assert report.failed and report.vulnerable == ["jinja2 3.1.6: GHSA-xxxx (no fixed version yet)"]


def test_the_pyproject_acceptances_name_exact_versions_with_reasons():
    for acceptance in audit.read_acceptances():
        assert acceptance.version and acceptance.reason
        assert acceptance.until - dt.date.today() <= audit.LONGEST_ACCEPTANCE


def project_json(version, vulns=()):
    return {"info": {"version": version}, "vulnerabilities": list(vulns)}


def test_pypi_source_audits_the_newest_release_from_the_project_json():
    vulns = [
        {"id": "PYSEC-1", "aliases": ["CVE-1"], "fixed_in": ["2.0"], "summary": "bad", "withdrawn": None},
        {"id": "PYSEC-0", "fixed_in": [], "withdrawn": "2026-01-01T00:00:00"},
    ]
    documents = {"https://pypi.org/pypi/foo/json": project_json("1.0", vulns)}
    answer = audit.pypi_source(documents.get)("foo", "1.0")
    assert answer.audited
    assert answer.advisories == (audit.Advisory("PYSEC-1", ("CVE-1",), ("2.0",), "bad"),)


def test_pypi_source_asks_the_release_json_for_an_older_pin_and_else_says_why_not():
    documents = {"https://pypi.org/pypi/foo/json": project_json("2.0")}
    answer = audit.pypi_source(documents.get)("foo", "1.0")
    assert not answer.audited and "not PyPI's newest release (2.0)" in answer.reason

    documents["https://pypi.org/pypi/foo/1.0/json"] = project_json("1.0", [{"id": "GHSA-old", "fixed_in": ["1.1"]}])
    answer = audit.pypi_source(documents.get)("foo", "1.0")
    assert answer.audited and answer.advisories[0].id == "GHSA-old"

    assert "no project named bar" in audit.pypi_source(documents.get)("bar", "1.0").reason

    def down(url):
        raise OSError("pypi.org: timed out (tried 3 times)")

    answer = audit.pypi_source(down)("foo", "1.0")
    assert not answer.audited and "PyPI did not answer" in answer.reason


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def opener_failing(errors):
    """An urlopen that raises the given errors in turn, then answers `{}`."""
    calls = []

    def opener(url, timeout):
        calls.append(url)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return FakeResponse(json.dumps({"ok": True}).encode())

    return opener, calls


def http_error(code):
    return urllib.error.HTTPError("https://pypi.org/x", code, "error", None, None)


def test_fetch_retries_a_transient_error_and_not_a_missing_page():
    opener, calls = opener_failing([urllib.error.URLError("reset"), http_error(503)])
    assert audit.fetch_json("https://pypi.org/x", opener=opener, pause=0) == {"ok": True}
    assert len(calls) == 3

    opener, calls = opener_failing([http_error(404)])
    assert audit.fetch_json("https://pypi.org/x", opener=opener, pause=0) is None
    assert len(calls) == 1

    opener, calls = opener_failing([TimeoutError("timed out")] * 3)
    with pytest.raises(OSError, match="tried 3 times"):
        audit.fetch_json("https://pypi.org/x", opener=opener, pause=0)


def test_installed_packages_must_be_the_lock():
    pins = [*PINS, pin("colorama", "0.4.6", "sys_platform == 'no such platform'")]
    assert audit.installed_vs_locked(pins, {"flask": "3.1.3", "jinja2": "3.1.6"}) == []
    problems = audit.installed_vs_locked(pins, {"flask": "3.1.2", "requests": "2.34.2"})
    assert problems == [
        "jinja2 3.1.6 is locked but not installed: run `make install`",
        "requests 2.34.2 is installed but not locked: add it to an .in file, or remove it",
        "flask is installed at 3.1.2, locked at 3.1.3: run `make install`",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("flask>=3.1 --hash=sha256:" + "0" * 64, "not pinned to one version"),
        ("flask==3.1.3", "has no --hash"),
        ("-r requirements.in", "a lock is a flat list of pins"),
    ],
)
def test_a_lock_line_without_an_exact_pin_and_a_hash_is_refused(tmp_path, line, message):
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"# comment\nwerkzeug==3.1.9 \\\n    --hash=sha256:{'1' * 64}\n{line}\n")
    with pytest.raises(audit.LockError, match=message):
        audit.read_lock(lock)


# --- the real lock files ---------------------------------------------------------------------


def test_every_installed_package_is_locked_with_its_hashes():
    """Every `pip freeze --all` entry of this virtualenv is pinned, at its version, with hashes."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pins = audit.read_locks()
    locked = {(p.name, p.version) for p in pins if p.hashes}
    unlocked = []
    for entry in frozen:
        name, _, version = entry.partition("==")
        if (audit.canonical(name), version) not in locked:
            unlocked.append(entry)
    assert frozen and unlocked == []
    assert audit.installed_vs_locked(pins, audit.installed_packages()) == []


def test_the_runtime_lock_is_part_of_the_dev_lock_and_pins_the_inputs():
    runtime = audit.read_lock(ROOT / "requirements.txt")
    # The same versions and files; environment markers may differ (a package that one runtime
    # dependency needs on some platforms may be needed everywhere by a test tool).
    dev = {(p.name, p.version): p.hashes for p in audit.read_lock(ROOT / "requirements-dev.txt")}
    for p in runtime:
        assert dev.get((p.name, p.version)) == p.hashes, f"{p.name} {p.version} differs between the two locks"
    for source, lock in (("requirements.in", runtime), ("requirements-dev.in", dev)):
        pinned = {(p.name, p.version) for p in lock} if source == "requirements.in" else set(lock)
        for line in (ROOT / source).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                name, version = line.split("==")
                assert (audit.canonical(name.split("[")[0]), version) in pinned, f"{line} is not in its lock"
