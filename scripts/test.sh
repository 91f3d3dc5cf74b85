#!/usr/bin/env bash
# The whole check, as `make test` runs it: ruff, mypy, the dependency audit, then pytest on SQLite
# and on a throwaway PostgreSQL cluster side by side, then a summary. Every stage runs even when an
# earlier one fails, so one run reports everything; the cluster is always stopped and deleted.
#
# With --fast first (`make test-fast`): ruff, mypy, and pytest on SQLite only, without the tests
# marked browser, pdf, server or postgres (FAST_MARKERS), two workers at once. No audit, no cluster.
#
# Extra arguments go to every pytest run (`make test PYTEST_ARGS="-k wizard -x"`).
# Exit code: the SQLite run's if it failed, else the PostgreSQL run's, else 1 if lint, mypy or
# the audit failed.
set -uo pipefail

fast=0
if [[ "${1:-}" == "--fast" ]]; then
  fast=1
  shift
fi
# What the fast lane leaves out: real browsers, real PDF renders, real servers, PostgreSQL.
FAST_MARKERS="not browser and not pdf and not server and not postgres"
# Both lanes name their slowest tests at the end.
DURATIONS=(--durations=15)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN="$ROOT/.venv/bin"
[[ -x "$BIN/pytest" ]] || { echo "no .venv: run 'make install' first" >&2; exit 1; }

summary=()
started=$SECONDS

banner() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
record() { summary+=("$(printf '%-32s %-22s %4ss' "$1" "$2" "$3")"); }
verdict() {
  case "$1" in
    0) echo "passed" ;;
    5) echo "FAILED (no tests ran)" ;;
    *) echo "FAILED (exit $1)" ;;
  esac
}

cluster_started=0
pg_pid=
cleanup() {
  if [[ -n "$pg_pid" ]]; then
    pkill -TERM -P "$pg_pid" 2>/dev/null || true
    kill "$pg_pid" 2>/dev/null || true
    wait "$pg_pid" 2>/dev/null || true
    pg_pid=
  fi
  if ((cluster_started)); then
    bash scripts/pg-test-cluster.sh stop || true
    cluster_started=0
  fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

banner "ruff check + ruff format --check"
t=$SECONDS
"$BIN/ruff" check .
check_rc=$?
"$BIN/ruff" format --check .
format_rc=$?
lint_rc=$((check_rc || format_rc))
record "lint (ruff)" "$( ((lint_rc)) && echo FAILED || echo passed)" $((SECONDS - t))

banner "mypy (the files and settings in pyproject.toml's [tool.mypy])"
t=$SECONDS
"$BIN/mypy"
mypy_rc=$?
record "types (mypy)" "$( ((mypy_rc)) && echo FAILED || echo passed)" $((SECONDS - t))

if ((fast)); then
  banner "pytest on SQLite, fast lane: -m \"$FAST_MARKERS\", 2 workers"
  t=$SECONDS
  env -u TEST_DATABASE_URL "$BIN/pytest" -m "$FAST_MARKERS" -n 2 "${DURATIONS[@]}" "$@"
  sqlite_rc=$?
  record "pytest, SQLite, fast lane" "$(verdict $sqlite_rc)" $((SECONDS - t))
  if ((sqlite_rc)); then
    rc=$sqlite_rc
  else
    rc=$((lint_rc || mypy_rc))
  fi
  banner "summary (fast lane: no browsers, PDFs, servers, PostgreSQL or audit; \`make test\` runs them)"
  printf '  %s\n' "${summary[@]}"
  printf '  %-32s %-22s %4ss\n' "total" "$( ((rc)) && echo "FAILED (exit $rc)" || echo passed)" $((SECONDS - started))
  exit "$rc"
fi

banner "dependency audit: every locked package against PyPI's advisories (scripts/audit.py)"
t=$SECONDS
"$BIN/python" scripts/audit.py
audit_rc=$?
record "dependency audit" "$(verdict $audit_rc)" $((SECONDS - t))

# The two pytest runs go side by side, one per core: the PostgreSQL run writes to a log that is
# printed when both are done, the SQLite run (with the browser tests) prints as it goes.
banner "pytest on SQLite (shown live) and on PostgreSQL (side by side; its log follows)"
pg_log=$(mktemp /tmp/planner-pytest-pg.XXXXXX)
t=$SECONDS
if url=$(bash scripts/pg-test-cluster.sh start); then
  cluster_started=1
  echo "TEST_DATABASE_URL=$url"
  (
    started_pg=$SECONDS
    TEST_DATABASE_URL="$url" "$BIN/pytest" -m "not browser" -p no:cacheprovider --basetemp "$pg_log.tmp" \
      "${DURATIONS[@]}" "$@" >"$pg_log" 2>&1
    rc=$?
    echo "$rc $((SECONDS - started_pg))" >"$pg_log.rc"
  ) &
  pg_pid=$!
else
  record "pytest, PostgreSQL" "FAILED (cluster did not start)" 0
fi

# PLANNER_TEST_PASS tells the modules that need running once (the PDF layout's, which the
# database plays no part in) that the PostgreSQL pass, the shorter one, runs them.
env -u TEST_DATABASE_URL PLANNER_TEST_PASS=sqlite "$BIN/pytest" "${DURATIONS[@]}" "$@"
sqlite_rc=$?
record "pytest, SQLite" "$(verdict $sqlite_rc)" $((SECONDS - t))

if [[ -n "$pg_pid" ]]; then
  wait "$pg_pid"
  banner "pytest on PostgreSQL (browser tests deselected: they ran on SQLite)"
  cat "$pg_log"
  read -r pg_rc pg_seconds <"$pg_log.rc" || { pg_rc=1; pg_seconds=0; }
  record "pytest, PostgreSQL" "$(verdict "$pg_rc")" "$pg_seconds"
  rm -rf "$pg_log" "$pg_log.rc" "$pg_log.tmp"
  pg_pid=
else
  pg_rc=1
fi
cleanup

if ((sqlite_rc)); then
  rc=$sqlite_rc
elif ((pg_rc)); then
  rc=$pg_rc
elif ((lint_rc || mypy_rc)); then
  rc=1
else
  rc=$audit_rc
fi

banner "summary"
printf '  %s\n' "${summary[@]}"
printf '  %-32s %-22s %4ss\n' "total" "$( ((rc)) && echo "FAILED (exit $rc)" || echo passed)" $((SECONDS - started))
exit "$rc"
