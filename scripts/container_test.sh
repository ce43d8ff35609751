#!/usr/bin/env bash
# Build the connector's Docker image with podman and run the container tests against the offline simulator.
#
#   scripts/container_test.sh            # from anywhere inside the repository
#
# Needs root (apt-get, rootful podman), Debian packages and PyPI; no Docker engine and no Docker Hub:
#   1. ../shared/tools/container-base.sh (beside the clone) installs podman/runc/debootstrap and imports a local
#      stand-in for airbyte/python-connector-base as localhost/python-connector-base:local;
#   2. the image is built from ./Dockerfile with BASE_IMAGE pointing at that stand-in;
#   3. pytest runs integration_tests/container/ (the image is given through ZOHO_DESK_IMAGE).
# Timings of each phase are printed at the end. Environment knobs:
#   ZOHO_DESK_SHARED_DIR  where shared/ lives            (default: <repo>/../shared)
#   ZOHO_DESK_IMAGE       tag to build                   (default: localhost/source-zoho-desk:dev)
#   ZOHO_DESK_PYTHON      python that runs pytest        (default: <repo>/.venv/bin/python, else python3)
#   ZOHO_DESK_SKIP_BUILD  1 = test an already built ZOHO_DESK_IMAGE
set -euo pipefail

ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$ROOT"
SHARED=${ZOHO_DESK_SHARED_DIR:-$ROOT/../shared}
IMAGE=${ZOHO_DESK_IMAGE:-localhost/source-zoho-desk:dev}
if [[ -n "${ZOHO_DESK_PYTHON:-}" ]]; then
  PYTHON=$ZOHO_DESK_PYTHON
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
  PYTHON=$ROOT/.venv/bin/python
else
  PYTHON=python3
fi

now() { date +%s; }
t0=$(now)

# 1. podman and the stand-in base image. The script prints `export CONTAINERS_CONF=...` and `PODMAN='...'`.
if [[ ! -f "$SHARED/tools/container-base.sh" ]]; then
  echo "container_test: $SHARED/tools/container-base.sh not found (set ZOHO_DESK_SHARED_DIR)" >&2
  exit 2
fi
setup=$(bash "$SHARED/tools/container-base.sh")
echo "$setup"
eval "$(grep -E '^(export CONTAINERS_CONF=|PODMAN=)' <<<"$setup")"
export CONTAINERS_CONF PODMAN
BASE=localhost/python-connector-base:local

t1=$(now)

# 2. the image. --layers=false: on the vfs storage driver every cached layer is a full copy of the filesystem, which
# costs more time (and gigabytes) than the cache saves on a fresh CI machine.
if [[ "${ZOHO_DESK_SKIP_BUILD:-0}" != 1 ]]; then
  $PODMAN build --layers=false --network=host --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE" .
fi
t2=$(now)

# 3. the tests (they start the simulator on this host and run the image with --network=host).
status=0
ZOHO_DESK_IMAGE=$IMAGE "$PYTHON" -m pytest -v -p no:cacheprovider integration_tests/container || status=$?
t3=$(now)

echo "container_test: setup $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s, total $((t3 - t0)) s"
exit $status
