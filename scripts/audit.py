"""The dependency audit the test command runs: pip-audit over the virtualenv, and a fallback for what it skips.

pip-audit asks PyPI's per-release JSON (`/pypi/NAME/VERSION/json`) for each installed package's
known vulnerabilities. Some networks, this project's CI among them, reach the package index and
the per-project JSON (`/pypi/NAME/json`) but not the per-release one, so pip-audit skips every
package as "not found". For those, this script reads the per-project JSON, whose
`vulnerabilities` list is PyPI's (OSV-fed) advisory list for the project's newest release: when
the installed version *is* the newest, that is the same answer pip-audit would have had. An
installed version that is not the newest cannot be audited that way and is listed as such.

Exit status: 1 when any installed package has a known vulnerability, else 0. Packages that could
not be audited are listed but do not fail the run (a closed network is not a vulnerability);
when nothing at all could be audited, it says so plainly.
Run as: .venv/bin/python scripts/audit.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
TIMEOUT = 20


def pip_audit() -> list[dict[str, Any]]:
    """pip-audit's verdict on every package installed in this virtualenv."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    result = subprocess.run(
        [str(pip_audit), "--progress-spinner", "off", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        sys.stderr.write(result.stderr)
        raise SystemExit(f"pip-audit failed to run (exit {result.returncode})")
    return json.loads(result.stdout)["dependencies"]


def newest_release_advisories(name: str, version: str) -> tuple[str, list[dict[str, Any]] | None]:
    """(newest version, its advisories), or (reason, None) when the installed version cannot be checked."""
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=TIMEOUT) as response:
            project = json.load(response)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        return f"PyPI did not answer ({error})", None
    newest = project["info"]["version"]
    if newest != version:
        return f"installed {version}, newest is {newest}: PyPI lists advisories for the newest only", None
    return newest, [v for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]


def main() -> int:
    dependencies = pip_audit()
    vulnerable: list[str] = []
    unaudited: list[str] = []
    audited = 0
    skipped = []
    for dep in dependencies:
        if "skip_reason" in dep:
            skipped.append(dep)
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln["fix_versions"]) or "no fix yet"
            vulnerable.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")

    def version_of(dep: dict[str, Any]) -> str:
        # pip-audit gives the skip reason as "... could not be audited: NAME (VERSION)".
        return dep["skip_reason"].rsplit("(", 1)[-1].rstrip(")")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda d: newest_release_advisories(d["name"], version_of(d)), skipped))
    for dep, (newest_or_reason, advisories) in zip(skipped, answers, strict=True):
        if advisories is None:
            unaudited.append(f"{dep['name']}: {newest_or_reason}")
            continue
        audited += 1
        for vuln in advisories:
            fixed = ", ".join(vuln.get("fixed_in") or []) or "no fix yet"
            vulnerable.append(f"{dep['name']} {newest_or_reason}: {vuln['id']} (fixed in {fixed})")

    total = len(dependencies)
    print(f"dependency audit: {audited} of {total} installed packages audited, {len(vulnerable)} known vulnerabilities")
    for line in unaudited:
        print(f"  not audited: {line}")
    for line in vulnerable:
        print(f"  VULNERABLE: {line}")
    if audited == 0:
        print("  nothing could be audited: neither pip-audit nor PyPI's project JSON answered")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
