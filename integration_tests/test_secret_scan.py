"""The secret-scan plugin (integration_tests/secret_scan.py) catches a leaked secret, and only a leaked one."""

from __future__ import annotations

pytest_plugins = ["pytester"]

LEAKY_TESTS = '''
import logging
import subprocess
import sys

import pytest

from integration_tests.simulator import ZohoDeskSimulator


@pytest.fixture
def simulator():
    with ZohoDeskSimulator(seed=3, tickets=1, departments=1, products=1, contracts=1, contacts=1, accounts=1,
                           agents=1) as sim:
        yield sim


def test_logs_the_client_secret(simulator):
    logging.getLogger("airbyte").warning("authorizing with %s", simulator.client_secret)


def test_prints_a_refresh_token(simulator):
    print("the token is", simulator.config()["credentials"]["refresh_token"])


def test_writes_half_an_access_token_to_stderr(simulator):
    token = simulator.access_token()
    print("access", token.split(".")[2], file=sys.stderr)


def test_prints_a_grant_code_in_teardown(simulator, request):
    code = simulator.grant_code()
    request.addfinalizer(lambda: print("leftover code", code))


def test_prints_a_declared_buffer_password(known_secrets):
    known_secrets.add("hunter2-buffer-password", kind="buffer password")
    print("connecting to postgresql://u:hunter2-buffer-password@db/buffer")


@pytest.mark.xfail(reason="an expected failure does not excuse a leak")
def test_xfails_but_leaks(simulator):
    print(simulator.client_secret)
    assert False


def test_hands_a_refreshed_config_to_the_platform(simulator):
    """A CONNECTOR_CONFIG control message carries the refresh token by design: it is the protocol's channel."""
    import json
    config = simulator.config()
    print(json.dumps({"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1.0,
                                                     "connectorConfig": {"config": config}}}))


def test_keeps_its_secrets(simulator, known_secrets):
    known_secrets.add("never-printed-password")
    config = simulator.config()
    print("org", simulator.org_id, "at", simulator.base_url, "client", config["credentials"]["client_id"])
    logging.getLogger("airbyte").info("authorized; secret is %s", "*" * len(simulator.client_secret))
'''


def test_the_plugin_fails_each_test_that_leaks_a_secret_and_passes_the_one_that_does_not(pytester):
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest("-p", "integration_tests.secret_scan", "-p", "no:cacheprovider", "-rA")

    # the grant-code test passes its call and errors in teardown, where the leak shows
    result.assert_outcomes(passed=3, failed=5, errors=1)
    output = result.stdout.str()
    for test, kind, where in [
        ("test_logs_the_client_secret", "Zoho client secret", "captured log of call"),
        ("test_prints_a_refresh_token", "Zoho refresh token", "captured stdout of call"),
        ("test_writes_half_an_access_token_to_stderr", "part of a Zoho access token", "captured stderr of call"),
        ("test_prints_a_grant_code_in_teardown", "Zoho grant code", "captured stdout of teardown"),
        ("test_prints_a_declared_buffer_password", "buffer password", "captured stdout of call"),
        ("test_xfails_but_leaks", "Zoho client secret", "captured stdout of call"),
    ]:
        failure = section_of(output, test)
        assert f"a {kind} (" in failure and f"leaked into the {where}" in failure, failure
    assert "PASSED test_leaky.py::test_keeps_its_secrets" in output
    assert "PASSED test_leaky.py::test_hands_a_refreshed_config_to_the_platform" in output
    assert "ERROR test_leaky.py::test_prints_a_grant_code_in_teardown" in output
    refresh_token_report = section_of(output, "test_prints_a_refresh_token").split("Captured stdout")[0]
    assert refresh_token_report.count("leaked into") == 1, "one sentence per leak, not one more per half of the token"


def test_the_failure_report_never_shows_the_secret(pytester):
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest(
        "-p", "integration_tests.secret_scan", "-p", "no:cacheprovider", "-k", "declared_buffer_password"
    )
    result.assert_outcomes(failed=1)
    report = "\n".join(line for line in result.stdout.lines if "secret scan" in line or "leaked into" in line)
    assert "leaked into" in report and "hunter2-buffer-password" not in report


def test_a_test_without_the_simulator_or_a_receiver_is_not_scanned(pytester):
    pytester.makepyfile(
        test_plain="""
        def test_prints_something_token_like():
            print("1000." + "a" * 32 + "." + "b" * 32)
    """
    )
    result = pytester.runpytest("-p", "integration_tests.secret_scan", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def section_of(output: str, title: str) -> str:
    """The part of pytest's output about `title` (a test name in a failure header, or a summary line)."""
    start = output.find(f"_ {title} _")
    if start < 0:
        start = output.find(f"ERROR at teardown of {title}")
    if start < 0:
        return output
    end = output.find("\n____", start + 10)
    return output[start : end if end > 0 else len(output)]
