#!/usr/bin/env bash
# Install, then run every test stage and report each one (CI runs exactly this, through .ci/run):
#   1. lint: `ruff check .`, `ruff format --check .` and `mypy` (its targets come from [tool.mypy] in
#      pyproject.toml). Only once pyproject.toml has a [tool.ruff] section; until then it prints "lint: not configured";
#   2. pytest: unit tests, simulator integration tests, webhook end-to-end tests (SQLite and a real PostgreSQL),
#      the CDK's standard source tests and the PyAirbyte test (PyAirbyte lives in its own venv, .venv-pyairbyte);
#   3. container tests: the Docker image, built with podman and tested in a container (scripts/container_test.sh);
#      they need root and ../shared/tools/container-base.sh beside the clone, else they are reported as not run.
# Every stage runs even when an earlier one failed; the last lines give each stage's result, and the exit status is
# that of the first failed stage (0 when none failed).
#
# One suite alone:
#   scripts/test.sh unit_tests            pytest on unit_tests only (any arguments go to pytest, and then only
#   scripts/test.sh integration_tests -q  pytest runs: no lint, no container tests)
#   scripts/test.sh lint                  the lint stage only
#   scripts/test.sh container             the container tests only
set -uo pipefail  # no -e: a failed stage must not skip the ones after it
cd "$(dirname "$0")/.."
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

scripts/bootstrap.sh || { echo "test.sh: installing into .venv failed; no stage ran" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"

# "passed" / "failed (...)" / "not run (...)" per stage, and the exit status of the first failed stage.
lint_result="not run (arguments narrow the run to one suite)"
pytest_result="not run (arguments narrow the run to one suite)"
container_result="not run (arguments narrow the run to one suite)"
first_failure=0

note_failure() {
  [ "$first_failure" -ne 0 ] || first_failure=$1
}

run_lint() {
  if ! grep -q '^\[tool\.ruff\]' pyproject.toml; then
    lint_result="not configured"
    echo "lint: not configured (no [tool.ruff] section in pyproject.toml)"
    return
  fi
  local failed="" status=0 tool
  for tool in ruff mypy; do
    if [ ! -x ".venv/bin/$tool" ]; then
      lint_result="failed ($tool is not installed in .venv: add it to the dev extras)"
      note_failure 127
      return
    fi
  done
  local -a commands=("ruff check ." "ruff format --check ." "mypy")
  local command
  for command in "${commands[@]}"; do
    echo "lint: $command"
    $command
    status=$?
    if [ "$status" -ne 0 ]; then
      failed+="${failed:+; }$command: exit $status"
      note_failure "$status"
    fi
  done
  if [ -z "$failed" ]; then
    lint_result="passed"
  else
    lint_result="failed ($failed)"
  fi
}

install_pyairbyte() {
  if [ ! -x .venv-pyairbyte/bin/python ]; then
    echo "Installing PyAirbyte into .venv-pyairbyte for its test..."
    python3 -m venv .venv-pyairbyte
    .venv-pyairbyte/bin/python -m pip install --quiet -c integration_tests/pyairbyte-constraints.txt "airbyte==0.71.3" \
      >.venv-pyairbyte/install.log 2>&1 \
      || { rm -rf .venv-pyairbyte; echo "PyAirbyte could not be installed; its test will be skipped." >&2; }
  fi
}

run_pytest() {
  install_pyairbyte
  .venv/bin/python -m pytest -p no:cacheprovider "$@"
  local status=$?
  if [ "$status" -eq 0 ]; then
    pytest_result="passed (exit 0)"
  else
    pytest_result="failed (exit $status)"
    note_failure "$status"
  fi
}

run_container_tests() {
  if [ "$(id -u)" != 0 ]; then
    container_result="not run (they need root for podman)"
    return
  fi
  if [ ! -f ../shared/tools/container-base.sh ]; then
    container_result="not run (they need ../shared/tools/container-base.sh beside the clone)"
    return
  fi
  scripts/container_test.sh
  local status=$?
  if [ "$status" -eq 0 ]; then
    container_result="passed"
  else
    container_result="failed (exit $status)"
    note_failure "$status"
  fi
}

case "${1-}" in
  "")
    run_lint
    run_pytest
    run_container_tests
    ;;
  lint)
    [ $# -eq 1 ] || { echo "test.sh: 'lint' takes no further arguments" >&2; exit 2; }
    run_lint
    ;;
  container)
    [ $# -eq 1 ] || { echo "test.sh: 'container' takes no further arguments" >&2; exit 2; }
    run_container_tests
    ;;
  *)
    run_pytest "$@"
    ;;
esac

echo
echo "lint: $lint_result"
echo "pytest: $pytest_result"
echo "container tests: $container_result"
exit "$first_failure"
