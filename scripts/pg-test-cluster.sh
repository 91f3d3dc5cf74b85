#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#
#   scripts/pg-test-cluster.sh start   # initdb + start on a free port; prints the database URL
#   scripts/pg-test-cluster.sh url     # prints the URL of the running cluster
#   scripts/pg-test-cluster.sh stop    # stops the cluster and deletes its files
#
# The cluster lives in a fresh directory under /tmp, listens on 127.0.0.1 only, trusts every
# local connection and is tuned for speed, not durability (fsync off). Its details are kept in a
# state file named after this checkout, so `stop` finds what `start` made, and two checkouts can
# each run their own. PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` system user; as anyone else it runs as that user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEY=$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
STATE="/tmp/planner-pg-test-$KEY.state"
DB_NAME=planner_test

say() { printf '%s\n' "pg-test-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

find_bindir() {
  # Debian keeps each major version's server binaries in /usr/lib/postgresql/<ver>/bin, off PATH;
  # take the newest. Elsewhere, trust PATH.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
    printf '%s\n' "$dir"
  elif command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  else
    die "no PostgreSQL server binaries found (install the 'postgresql' package: make install)"
  fi
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  local py
  py=$(command -v python3 || command -v python3.11 || command -v python) || die "python is needed to pick a port"
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

url_for() { printf 'postgresql+psycopg://postgres@127.0.0.1:%s/%s\n' "$1" "$DB_NAME"; }

load_state() {
  [[ -f "$STATE" ]] || return 1
  # shellcheck disable=SC1090
  source "$STATE"
}

cmd_start() {
  if load_state && [[ -n "${PORT:-}" ]] && as_owner "$BINDIR/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    say "already running (state in $STATE)"
    url_for "$PORT"
    return 0
  fi
  cmd_stop >/dev/null 2>&1 || true

  local bindir base port attempt
  bindir=$(find_bindir)
  base=$(mktemp -d /tmp/planner-pg-test.XXXXXX)
  chmod 755 "$base"
  mkdir "$base/data" "$base/socket"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user (install postgresql)"
    chown postgres: "$base/data" "$base/socket"
  fi
  # Written before anything can fail, so that `stop` cleans up even after a failed start.
  printf 'BASE_DIR=%q\nPGDATA_DIR=%q\nBINDIR=%q\nPORT=\n' "$base" "$base/data" "$bindir" >"$STATE"

  as_owner "$bindir/initdb" -D "$base/data" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=trust >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; die "initdb failed"; }
  cat >>"$base/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base/socket'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
CONF

  # Another process may take the port between picking and binding it: try a few.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" -D "$base/data" -o "-p $port" -l "$base/data/server.log" \
      -w -t 60 start >/dev/null; then
      break
    fi
    port=
    say "start on a fresh port failed (attempt $attempt)"
  done
  [[ -n "$port" ]] || { cat "$base/data/server.log" >&2 || true; die "could not start PostgreSQL"; }
  printf 'BASE_DIR=%q\nPGDATA_DIR=%q\nBINDIR=%q\nPORT=%q\n' "$base" "$base/data" "$bindir" "$port" >"$STATE"

  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" \
    || die "could not create the $DB_NAME database"
  say "running on 127.0.0.1:$port, files in $base"
  url_for "$port"
}

cmd_stop() {
  if ! load_state; then
    say "no cluster to stop"
    return 0
  fi
  if [[ -n "${PGDATA_DIR:-}" && -f "$PGDATA_DIR/postmaster.pid" ]]; then
    as_owner "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 20 stop >/dev/null \
      || say "pg_ctl stop failed; removing the files anyway"
  fi
  # Only ever delete what `start` made.
  if [[ -n "${BASE_DIR:-}" && "$BASE_DIR" == /tmp/planner-pg-test.* ]]; then
    rm -rf -- "$BASE_DIR"
  fi
  rm -f -- "$STATE"
  say "stopped and removed"
}

cmd_url() {
  load_state && [[ -n "${PORT:-}" ]] || die "no cluster running (scripts/pg-test-cluster.sh start)"
  url_for "$PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
