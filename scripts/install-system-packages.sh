#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Planner needs outside Python, and only those missing.
#
#   WeasyPrint:           libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
#   the document's fonts: fonts-noto-core fonts-noto-color-emoji fonts-noto-cjk
#   browser tests:        chromium (Playwright drives Debian's build; we never download one)
#   PostgreSQL tests:     postgresql (a throwaway cluster, see scripts/pg-test-cluster.sh)
#   the deployment test:  nginx, openssl (docs/deploy.md's proxy config on HTTPS, in front of gunicorn)
#   looking at PDFs:      poppler-utils (pdftoppm)
#   readers' time zones:  tzdata (zoneinfo's names and rules; planner/accounts/timezones.py)
#   the virtualenv:       python3 + python3-venv, only when no usable Python 3.11+ exists
#   the entry points:     make (CI calls `make test`)
#
# Checking is a single dpkg-query, so running this on a ready machine costs nothing; only when
# something is missing does it run `apt-get update` and `apt-get install`.
set -euo pipefail

PACKAGES=(
  make
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
  fonts-noto-core fonts-noto-color-emoji fonts-noto-cjk
  chromium
  postgresql
  nginx openssl
  poppler-utils
  tzdata
)

say() { printf '%s\n' "install-system-packages: $*" >&2; }

# The Python that `make install` will build the virtualenv from must have venv and ensurepip
# (Debian splits them into python3-venv). If there is none at all, use Debian's python3.
python_ok() {
  local py
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 \
      && "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      return 0
    fi
  done
  return 1
}
if ! python_ok; then
  PACKAGES+=(python3 python3-venv)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  say "not a Debian/Ubuntu system; install these yourself if missing: ${PACKAGES[*]}"
  exit 0
fi

installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ "$installed" == *" $pkg:installed "* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  say "missing packages: ${missing[*]}"
  say "not root and no sudo: install them as root, then run this again."
  exit 1
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
# Ubuntu ships no Debian-style `chromium` deb (only a snap stub); fall back to its name there.
if [[ " ${missing[*]} " == *" chromium "* ]] && ! apt-cache show chromium >/dev/null 2>&1; then
  say "no 'chromium' package here; trying 'chromium-browser' (on Ubuntu that is a snap stub)"
  missing=("${missing[@]/#chromium/chromium-browser}")
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
