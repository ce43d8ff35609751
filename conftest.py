import pytest

from unit_tests.webhooks.pg_server import find_pg_bin, start_postgres

# The CDK's standard connector tests take their scenarios from acceptance-test-config.yml through these hooks.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole run (buffer tests create a database each)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on this machine")
    server = start_postgres(bin_dir)
    yield server
    server.stop()
