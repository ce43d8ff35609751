"""Every integration test talks to a local Zoho Desk simulator that the tests start themselves; the webhook tests
also run a real receiver on a SQLite and a PostgreSQL buffer (`rig`)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.webhook_harness import WebhookRig


@pytest.fixture
def simulator():
    with ZohoDeskSimulator(seed=7) as sim:
        yield sim


@pytest.fixture(params=["sqlite", "postgres"])
def buffer_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/buffer.db"
    server = request.getfixturevalue("postgres_server")
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.database_url(name)


@pytest.fixture
def rig(simulator, buffer_url, tmp_path):
    made = WebhookRig(simulator, buffer_url, tmp_path)
    yield made
    made.close()
