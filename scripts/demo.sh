#!/usr/bin/env bash
# Install, then run a full demo sync (spec, check, discover, read) against the bundled Zoho Desk simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
WITHOUT_POSTGRESQL=1 scripts/bootstrap.sh  # the demo needs no database server
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m integration_tests.demo
