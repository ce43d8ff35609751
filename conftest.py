import pytest

from unit_tests.webhooks.pg_server import find_pg_bin, start_postgres

# The CDK's standard connector tests take their scenarios from acceptance-test-config.yml through these hooks.
# secret_scan fails a test whose output shows a secret it knew (tokens, client secret, grant code, path token, ...).
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks", "integration_tests.secret_scan"]


@pytest.fixture(autouse=True)
def private_token_cache(tmp_path_factory, monkeypatch):
    """Each test's runs keep access tokens in a cache of their own (token_cache.py), never in the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the whole run (buffer tests create a database each)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on this machine")
    server = start_postgres(bin_dir)
    yield server
    server.stop()
