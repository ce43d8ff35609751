"""The `zoho-desk-webhooks` command line: endpoint management, pruning, and one-line user errors."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from zoho_desk_webhooks import open_buffer
from zoho_desk_webhooks.cli import main

from .conftest import ORG, make_event


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_endpoint_add_list_delete(capsys, url):
    code, out, err = run(capsys, "endpoint", "add", "--buffer-url", url, "--org-id", ORG, "--data-center", "eu")
    assert code == 0
    path = out.strip()
    assert path.startswith("/webhooks/") and len(path) > 40
    with open_buffer(url) as buffer:
        endpoint = buffer.find_endpoint(path.removeprefix("/webhooks/"))
    assert endpoint.jwks_url == "https://desk.zoho.eu/.well-known/jwks.json"
    assert endpoint.endpoint_id in err

    code, out, _ = run(capsys, "endpoint", "list", "--buffer-url", url)
    assert code == 0 and endpoint.endpoint_id in out and path.removeprefix("/webhooks/") not in out

    assert run(capsys, "endpoint", "set-webhook-id", "--buffer-url", url, endpoint.endpoint_id, "42")[0] == 0
    assert run(capsys, "endpoint", "delete", "--buffer-url", url, endpoint.endpoint_id)[0] == 0
    code, _, err = run(capsys, "endpoint", "delete", "--buffer-url", url, endpoint.endpoint_id)
    assert code == 2 and "no endpoint" in err


def test_endpoint_add_with_a_jwks_url_and_env_buffer_url(capsys, url, monkeypatch):
    monkeypatch.setenv("ZOHO_DESK_WEBHOOK_BUFFER_URL", url)
    code, out, _ = run(capsys, "endpoint", "add", "--org-id", ORG, "--jwks-url", "https://desk.zohocloud.ca/jwks")
    assert code == 0
    with open_buffer(url) as buffer:
        assert buffer.find_endpoint(out.strip().removeprefix("/webhooks/")).jwks_url == "https://desk.zohocloud.ca/jwks"


def test_endpoint_add_picks_the_jwks_of_each_data_center(capsys, url):
    from zoho_desk_webhooks.data_centers import DATA_CENTERS, webhook_jwks_url

    for data_center in DATA_CENTERS:
        code, out, _ = run(
            capsys, "endpoint", "add", "--buffer-url", url, "--org-id", ORG, "--data-center", data_center
        )
        assert code == 0
        with open_buffer(url) as buffer:
            assert buffer.find_endpoint(out.strip().removeprefix("/webhooks/")).jwks_url == webhook_jwks_url(
                data_center
            )
    assert webhook_jwks_url("zohocloud.ca") == "https://desk.zohocloud.ca/.well-known/jwks.json"
    assert webhook_jwks_url("com.au") == "https://desk.zoho.com.au/.well-known/jwks.json"


def test_prune(capsys, url):
    with open_buffer(url) as buffer:
        buffer.append(ORG, [make_event(1)])
    assert run(capsys, "prune", "--buffer-url", url, "--older-than-days", "1")[0] == 0
    with open_buffer(url) as buffer:
        assert buffer.head_position(ORG) == 1 and buffer.pruned_through(ORG) == 0
        assert buffer.prune_older_than(timedelta(0)) == 1


def _busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


@pytest.mark.parametrize(
    "argv, message",
    [
        (["serve", "--buffer-url", "mysql://x/y"], "unsupported buffer URL"),
        (["serve", "--buffer-url", "sqlite:////no/such/dir/x.db"], "does not exist"),
        (["serve", "--buffer-url", "sqlite://relative.db"], "sqlite:////absolute/path.db"),
        (["serve", "--buffer-url", "sqlite:///relative.db"], "four slashes: sqlite:////absolute/path/relative.db"),
        (["serve", "--buffer-url", "sqlite:///var/lib/x.db"], "relative to the working directory"),
        (["serve", "--buffer-url", "postgresql://nobody:secret@127.0.0.1:1/db"], "cannot connect"),
        (["serve", "--buffer-url", "postgresql://x@h/db?no_such_option=1"], "PostgreSQL URL"),
        (["serve", "--buffer-url", "{url}", "--tls-cert", "/no/cert.pem", "--tls-key", "/no/key.pem"], "--tls-cert"),
        (["serve", "--buffer-url", "{url}", "--tls-cert", "{notpem}", "--tls-key", "{notpem}"], "cannot use"),
        (["serve", "--buffer-url", "{url}", "--tls-cert", "{notpem}"], "go together"),
        (["serve", "--buffer-url", "{url}", "--host", "127.0.0.1", "--port", "{busy}"], "cannot listen"),
        (["serve", "--buffer-url", "{url}", "--port", "70000"], "not a port"),
        (["serve", "--buffer-url", "{url}", "--port", "0", "--metrics-port", "{busy}"], "(--metrics-port)"),
        (["serve", "--buffer-url", "{url}", "--port", "8443", "--metrics-port", "8443"], "must differ from --port"),
        (["serve", "--buffer-url", "{url}", "--heartbeat-seconds", "60"], "--heartbeat-seconds must be at most 10"),
        (
            ["serve", "--buffer-url", "{url}", "--header-timeout-seconds", "0"],
            "--header-timeout-seconds must be positive",
        ),
        (["serve", "--buffer-url", "{url}", "--max-connections", "-1"], "--max-connections must be positive"),
        (["serve"], "--buffer-url is required"),
        (["endpoint", "add", "--buffer-url", "{url}", "--org-id", "1", "--jwks-url", "http://example.com/j"], "https"),
        (["endpoint", "list", "--buffer-url", "sqlite:///{notpem}"], "not a database"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(capsys, url, tmp_path, monkeypatch, argv, message):
    monkeypatch.delenv("ZOHO_DESK_WEBHOOK_BUFFER_URL", raising=False)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    busy = _busy_port()
    try:
        filled = [a.format(url=url, notpem=not_pem, busy=busy.getsockname()[1]) for a in argv]
        code, out, err = run(capsys, *filled)
    finally:
        busy.close()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "secret" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["endpoint"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["endpoint", "add", "--buffer-url", "sqlite:///tmp/x.db", "--org-id", "1", "--data-center", "mars"])
    assert exit_info.value.code == 2


def test_listening_socket_is_tcp_so_responses_are_not_delayed():
    # asyncio sets TCP_NODELAY only when the socket's proto is IPPROTO_TCP; without it every
    # response waited ~40 ms for Nagle + delayed ACK.
    from zoho_desk_webhooks.cli import _listen

    sock = _listen("127.0.0.1", 0, "--port")
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_version_and_a_loopback_default_host(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"zoho-desk-webhooks {version('source-zoho-desk')}\n"
    from zoho_desk_webhooks.cli import build_parser

    args = build_parser()[0].parse_args(["serve", "--buffer-url", "sqlite:////tmp/x.db"])
    assert args.host == "127.0.0.1"  # plain HTTP is not offered to the network unless asked for
    assert args.metrics_host == "127.0.0.1"  # nor the buffer's metrics and health


def test_every_serve_option_has_help_text():
    from zoho_desk_webhooks.cli import build_parser

    _, commands = build_parser()
    serve = commands.choices["serve"]
    options = [action for action in serve._actions if action.option_strings and action.dest != "help"]
    assert {option.dest for option in options} >= {"metrics_host", "metrics_port", "port", "host", "buffer_url"}
    assert [option.option_strings for option in options if not (option.help or "").strip()] == []
