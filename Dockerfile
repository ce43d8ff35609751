# syntax=docker/dockerfile:1
# Image of the Zoho Desk source, built the way Airbyte builds Python connectors: the connector package installed
# with pip on Airbyte's Python connector base image, run as the non-root `airbyte` user.
#
#   docker build -t airbyte/source-zoho-desk:dev .
#   docker run --rm -i airbyte/source-zoho-desk:dev spec
#   docker run --rm -i -v "$PWD/secrets:/secrets" airbyte/source-zoho-desk:dev check --config /secrets/config.json
#
# The same image carries the webhook receiver (console script `zoho-desk-webhooks`):
#   docker run -p 443:8443 -v "$PWD/tls:/tls:ro" --entrypoint zoho-desk-webhooks airbyte/source-zoho-desk:dev \
#     serve --buffer-url postgresql://user@db:5432/zoho --host 0.0.0.0 --tls-cert /tls/fullchain.pem --tls-key /tls/privkey.pem
#
# BASE_IMAGE is pinned by digest and must equal data.connectorBuildOptions.baseImage in metadata.yaml (a unit test,
# integration_tests/container/test_metadata.py, keeps them equal). 4.0.2 ships Python 3.11; pyproject.toml allows
# 3.10-3.12, so the 4.1.x bases (Python 3.13) do not fit. Machines without Docker Hub build with a stand-in:
#   --build-arg BASE_IMAGE=localhost/python-connector-base:local   (see scripts/container_test.sh)
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

LABEL io.airbyte.name=airbyte/source-zoho-desk \
      io.airbyte.version=1.0.0

USER root
WORKDIR /airbyte/integration_code

# Airbyte's base images (3.0.0 and later) already have the user `airbyte` (uid 1000); a plain Debian/Python base
# does not, so create it there with the same ids. Few layers: vfs-backed builds copy the whole tree per layer.
# .dockerignore lets in only pyproject.toml, constraints.txt (the tested pins), README.md and source_zoho_desk/.
COPY . ./
RUN set -eux; \
    if ! getent passwd airbyte >/dev/null; then \
        export PATH="$PATH:/usr/sbin:/sbin"; \
        groupadd --system --gid 1000 airbyte; \
        useradd --system --uid 1000 --gid airbyte --no-create-home --home-dir /airbyte --shell /usr/sbin/nologin airbyte; \
    fi; \
    pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore -c constraints.txt .; \
    rm -rf build ./*.egg-info; \
    source-zoho-desk spec >/dev/null; \
    zoho-desk-webhooks --help >/dev/null

USER airbyte
ENV AIRBYTE_ENTRYPOINT="source-zoho-desk"
ENTRYPOINT ["source-zoho-desk"]
