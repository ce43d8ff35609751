"""Buffer URLs never show their password: not in redacted URLs, not in the buffer's errors."""

from __future__ import annotations

import psycopg
import pytest

from zoho_desk_webhooks import BufferUnavailable, InvalidBufferUrl, open_buffer, postgres_buffer
from zoho_desk_webhooks.redaction import redact_url

SECRET = "s3cret-value"


def shown(error: BaseException | None) -> str:
    """The messages a traceback (a log with exc_info=True) prints: the error's and its causes'."""
    messages = []
    while error is not None:
        messages.append(str(error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n".join(messages)


@pytest.mark.parametrize(
    "url, secret, visible",
    [
        ("postgresql://alice:s3cret-value@db.example:5433/events", SECRET, ["alice", "db.example", "5433", "/events"]),
        ("postgres://alice:s3cret%2Fvalue@db.example/events", "s3cret", ["alice", "db.example", "/events"]),
        ("postgresql://alice@db.example/events?password=s3cret-value", SECRET, ["alice", "db.example", "/events"]),
        (
            "postgresql://alice@db.example/events?sslmode=require&PASSWORD=s3cret-value",
            SECRET,
            ["alice", "db.example", "/events", "sslmode=require"],
        ),
        (
            "postgresql://alice@db.example/events?Password=s3cret-value&connect_timeout=3",
            SECRET,
            ["db.example", "connect_timeout=3"],
        ),
        ("postgresql://alice@db.example/events?pass%77ord=s3cret-value", SECRET, ["db.example"]),  # libpq decodes names
        ("postgresql://alice@db.example/events?sslpassword=s3cret-value", SECRET, ["db.example"]),
        (
            "host=db.example port=5433 user=alice password=s3cret-value dbname=events",
            SECRET,
            ["host=db.example", "port=5433", "user=alice", "dbname=events"],
        ),
        ("host=db.example password = 's3cret value' dbname=events", "s3cret", ["host=db.example", "dbname=events"]),
        ("host=db.example password='it\\'s s3cret' dbname=events", "s3cret", ["host=db.example", "dbname=events"]),
        ("host=db.example PASSWORD=s3cret\\ value dbname=events", "s3cret", ["host=db.example", "dbname=events"]),
        # Raw special characters that should have been percent-encoded: no piece of the password shows.
        ("postgresql://alice:s3cret@value@db.example/events", "value", ["alice", "db.example", "/events"]),
        ("postgresql://alice:s3cret/value@db.example/events", "value", ["alice", "db.example", "/events"]),
        ("postgresql://alice:s3cret?value@db.example/events", "value", ["alice", "db.example", "/events"]),
        ("postgresql://alice@db.example/events?password=s3cret@value", "value", ["alice", "db.example"]),
        ("alice:s3cret-value@db.example/events", SECRET, ["alice", "db.example"]),  # scheme forgotten
    ],
)
def test_every_form_of_password_is_hidden_and_the_rest_kept(url, secret, visible):
    redacted = redact_url(url)
    assert secret not in redacted
    assert "***" in redacted
    for part in visible:
        assert part in redacted


@pytest.mark.parametrize(
    "text",
    [
        "host=db.example password='s3cret-value",  # unterminated quote
        "password=s3cret-value host",  # a keyword without a value
        "host=db.example password=s3cret-value\\",  # dangling escape
        "postgresql://alice:s3cret-value@[::1/events",  # unclosed IPv6 bracket
        "postgresql://alice:s3cret-value%zz@db.example/events",  # bad percent-encoding
        "postgresql://alice:s3cret-value&password=x@db.example/events",  # we and libpq would differ
    ],
)
def test_malformed_urls_never_raise_nor_echo_the_password(text):
    redacted = redact_url(text)
    assert isinstance(redacted, str) and "s3cret" not in redacted


@pytest.mark.parametrize("value", [None, 42, b"postgresql://u:s3cret@h/db"])
def test_non_strings_give_a_placeholder(value):
    assert redact_url(value) == "***"


def test_unparsable_postgres_url_error_hides_the_password():
    with pytest.raises(InvalidBufferUrl) as caught:
        open_buffer("postgresql://u:Pa%ss@127.0.0.1:1/db")  # psycopg's own error would quote "Pa%ss"
    assert "Pa%ss" not in shown(caught.value)
    assert "percent-encoded" in str(caught.value) and "127.0.0.1" in str(caught.value)


@pytest.mark.parametrize(
    "url, piece",
    [
        ("postgresql://u:P@ssw0rd@127.0.0.1:1/db", "ssw0rd"),  # libpq: host "ssw0rd@127.0.0.1"
        ("postgresql://u:k3y/w0rd@127.0.0.1:1/db", "k3y"),  # libpq: host "u", port "k3y"
    ],
)
def test_password_with_raw_at_or_slash_is_refused_before_libpq_takes_a_piece_for_host_or_port(url, piece):
    with pytest.raises(InvalidBufferUrl) as caught:
        open_buffer(url)
    assert piece not in shown(caught.value)
    assert "percent-encoded" in str(caught.value)


def test_unreachable_server_error_hides_a_query_password():
    with pytest.raises(BufferUnavailable) as caught:
        open_buffer(f"postgresql://u@127.0.0.1:1/db?password={SECRET}")  # port 1 refuses at once
    assert SECRET not in shown(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_keyword_conninfo_is_refused_without_its_password():
    with pytest.raises(InvalidBufferUrl) as caught:
        open_buffer(f"host=127.0.0.1 port=1 password='{SECRET}' dbname=db")
    assert SECRET not in shown(caught.value)


@pytest.mark.parametrize(
    "url, echoed",
    [
        (f"postgresql://u:{SECRET}@127.0.0.1:1/db", SECRET),
        ("postgresql://u:s3cret%2Fvalue@127.0.0.1:1/db", "s3cret/value"),  # libpq's decoded form
        ("postgresql://u:s3cret%2Fvalue@127.0.0.1:1/db", "s3cret%2Fvalue"),  # the form written in the URL
    ],
)
def test_connect_errors_are_scrubbed_of_the_password(monkeypatch, url, echoed):
    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(echoing_connect(echoed)))
    with pytest.raises(BufferUnavailable) as caught:
        open_buffer(url)
    assert "s3cret" not in shown(caught.value)
    assert "authentication failed" in str(caught.value)


def echoing_connect(echoed):
    def connect(cls, *args, **kwargs):  # a driver that quotes the password back, as none should
        raise psycopg.OperationalError(f'authentication failed for password "{echoed}"')

    return connect


def test_the_pools_reconnect_errors_are_logged_without_the_password(postgres_server, monkeypatch, caplog):
    """psycopg_pool reconnects in the background and logs why it could not; those lines must be scrubbed too."""
    from .conftest import fresh_database

    url = fresh_database(postgres_server).replace("postgres@", f"postgres:{SECRET}@")  # trust auth ignores it
    buffer = postgres_buffer.PostgresEventBuffer(url, acquire_timeout=1)
    try:
        buffer.ping()
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'zoho-desk-webhooks' AND pid <> pg_backend_pid()"
            )
        monkeypatch.setattr(psycopg.Connection, "connect", classmethod(echoing_connect(SECRET)))
        with pytest.raises(BufferUnavailable) as caught:
            buffer.ping()
        assert "no database connection within 1 s" in str(caught.value)
    finally:
        monkeypatch.undo()
        buffer.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "authentication failed" in logged, "the pool logs its connect errors"
    assert SECRET not in logged and SECRET not in shown(caught.value)
