#!/usr/bin/env bash
# The whole check, as `make test` runs it: ruff, pytest on SQLite, pytest on a throwaway
# PostgreSQL cluster, then a summary. Every stage runs even when an earlier one fails, so one
# run reports everything; the cluster is always stopped and deleted.
#
# Extra arguments go to both pytest runs (`make test PYTEST_ARGS="-k wizard -x"`).
# Exit code: the SQLite run's if it failed, else the PostgreSQL run's, else 1 if lint failed.
set -uo pipefail

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
cleanup() {
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

banner "pytest on SQLite"
t=$SECONDS
env -u TEST_DATABASE_URL "$BIN/pytest" "$@"
sqlite_rc=$?
record "pytest, SQLite" "$(verdict $sqlite_rc)" $((SECONDS - t))

banner "pytest on PostgreSQL (browser tests deselected: they ran on SQLite)"
t=$SECONDS
if url=$(bash scripts/pg-test-cluster.sh start); then
  cluster_started=1
  echo "TEST_DATABASE_URL=$url"
  TEST_DATABASE_URL="$url" "$BIN/pytest" -m "not browser" "$@"
  pg_rc=$?
  record "pytest, PostgreSQL" "$(verdict $pg_rc)" $((SECONDS - t))
else
  pg_rc=1
  record "pytest, PostgreSQL" "FAILED (cluster did not start)" $((SECONDS - t))
fi
cleanup

if ((sqlite_rc)); then
  rc=$sqlite_rc
elif ((pg_rc)); then
  rc=$pg_rc
else
  rc=$lint_rc
fi

banner "summary"
printf '  %s\n' "${summary[@]}"
printf '  %-32s %-22s %4ss\n' "total" "$( ((rc)) && echo "FAILED (exit $rc)" || echo passed)" $((SECONDS - started))
exit "$rc"
