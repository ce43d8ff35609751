"""PostgreSQL-only behaviour: connections dropped by the server are replaced transparently."""

from __future__ import annotations

import psycopg
import pytest

from zoho_desk_webhooks import BufferUnavailable, open_buffer

from .conftest import ORG, fresh_database, make_event


def test_pooled_connections_killed_by_the_server_are_replaced(postgres_server):
    url = fresh_database(postgres_server)
    with open_buffer(url) as buffer:
        buffer.append(ORG, [make_event(1)])
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'zoho-desk-webhooks'"
            ).fetchone()[0]
        assert killed >= 1
        assert buffer.append(ORG, [make_event(2)]) == 1  # retried on a fresh connection
        assert buffer.head_position(ORG) == 2


def test_unreachable_server_is_buffer_unavailable(postgres_server):
    with pytest.raises(BufferUnavailable) as caught:
        open_buffer(f"postgresql://postgres:hunter2@127.0.0.1:{postgres_server.port}/no_such_database")
    assert "hunter2" not in str(caught.value)


def test_a_database_that_refuses_writes_is_unavailable_not_a_crash(postgres_server):
    """A failover to a read-only standby: appends must be 503s (and refusals), not bare 500s."""
    url = fresh_database(postgres_server)
    database = url.rsplit("/", 1)[1]
    with open_buffer(url) as buffer:
        buffer.check_writable()
        assert buffer.append(ORG, [make_event(1)]) == 1
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = on")
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        with pytest.raises(BufferUnavailable, match="read-only transaction"):
            buffer.append(ORG, [make_event(2)])
        with pytest.raises(BufferUnavailable, match="cannot be written"):
            buffer.check_writable()
        assert buffer.head_position(ORG) == 1  # reads still work
