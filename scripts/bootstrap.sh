#!/usr/bin/env bash
# Create .venv (Python 3.10-3.12) and install the connector with its test tools, at the versions pinned in
# constraints.txt (scripts/lock.sh rewrites them). Idempotent.
# The webhook buffer tests start a real PostgreSQL server: its binaries come from Debian's packages (skipped with
# WITHOUT_POSTGRESQL=1, as the demo does: it needs no database).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ -z "${WITHOUT_POSTGRESQL:-}" ] && ! command -v initdb >/dev/null && [ ! -x /usr/lib/postgresql/15/bin/initdb ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing PostgreSQL (Debian package) for the buffer tests..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/tmp/postgresql-install.log 2>&1 \
    || echo "PostgreSQL could not be installed (see /tmp/postgresql-install.log); its tests will be skipped." >&2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
log=.venv/install.log
if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -c constraints.txt -e ".[dev]"; } >"$log" 2>&1; then
  tail -40 "$log"
  echo "Installing the connector failed; the full log is in $log" >&2
  exit 1
fi
