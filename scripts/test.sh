#!/usr/bin/env bash
# Install, then run the whole test suite:
#   1. pytest: unit tests, simulator integration tests, webhook end-to-end tests (SQLite and a real PostgreSQL),
#      the CDK's standard source tests and the PyAirbyte test (PyAirbyte lives in its own venv, .venv-pyairbyte);
#   2. the Docker image, built with podman and tested in a container (scripts/container_test.sh).
# Arguments go to pytest and narrow the run to it: `scripts/test.sh unit_tests -q` skips step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [ ! -x .venv-pyairbyte/bin/python ]; then
  echo "Installing PyAirbyte into .venv-pyairbyte for its test..."
  python3 -m venv .venv-pyairbyte
  .venv-pyairbyte/bin/python -m pip install --quiet -c integration_tests/pyairbyte-constraints.txt "airbyte==0.71.3" >.venv-pyairbyte/install.log 2>&1 \
    || { rm -rf .venv-pyairbyte; echo "PyAirbyte could not be installed; its test will be skipped." >&2; }
fi
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m pytest -p no:cacheprovider "$@"
if [ $# -eq 0 ]; then
  if [ "$(id -u)" = 0 ] && [ -f ../shared/tools/container-base.sh ]; then
    scripts/container_test.sh
  else
    echo "Container test not run: it needs root (podman) and ../shared/tools/container-base.sh beside the clone." >&2
  fi
fi
