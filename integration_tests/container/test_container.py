"""The connector's Docker image, run with podman against the offline Zoho Desk simulator.

`scripts/container_test.sh` installs podman, builds the image and runs this file with ZOHO_DESK_IMAGE set. The
simulator runs on this host (`python -m integration_tests.simulator`); the containers join the host network, so
the config's http://127.0.0.1:<port> URLs reach it. Each `podman run` on the vfs storage driver copies the image,
so the tests start as few containers as they can.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from integration_tests.test_streams import ALL_STREAMS

REPO = Path(__file__).resolve().parents[2]
STREAMS = ALL_STREAMS  # the one list of the connector's streams (test_streams.py)
SIMULATOR_SEED = 7
MOUNT = "/secrets"  # where the config, catalog and webhook buffer live inside the containers
LOCAL_CONTAINERS_CONF = "/etc/containers/containers.local.conf"  # written by shared/tools/container-base.sh

IMAGE = os.environ.get("ZOHO_DESK_IMAGE", "")

pytestmark = [
    pytest.mark.skipif(
        shutil.which("podman") is None,
        reason="podman is not installed; scripts/container_test.sh installs it, builds the image and runs these tests",
    ),
    pytest.mark.skipif(
        not IMAGE,
        reason="no image under test: set ZOHO_DESK_IMAGE, or run scripts/container_test.sh (it builds the image)",
    ),
]


# ---- podman -------------------------------------------------------------------------------------------------------


def podman_command() -> List[str]:
    # container-base.sh prints PODMAN='podman --storage-driver=vfs --runtime runc'; the script exports it.
    return shlex.split(os.environ.get("PODMAN") or "podman --storage-driver=vfs --runtime runc")


def podman_env() -> Dict[str, str]:
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env and os.path.exists(LOCAL_CONTAINERS_CONF):
        env["CONTAINERS_CONF"] = LOCAL_CONTAINERS_CONF
    return env


def podman(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        podman_command() + list(args), capture_output=True, text=True, timeout=timeout, env=podman_env()
    )


def run_image(
    *args: str, workdir: Path | None = None, entrypoint: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    options = ["run", "--rm", "-i", "--network=host"]
    if workdir is not None:
        options += ["-v", f"{workdir}:{MOUNT}"]
    if entrypoint:
        options += ["--entrypoint", entrypoint]
    return podman(*options, IMAGE, *args, timeout=timeout)


def messages(stdout: str) -> List[Dict[str, Any]]:
    """The Airbyte messages of a connector's stdout (every line is one JSON message)."""
    parsed = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            parsed.append(json.loads(line))
    return parsed


def of_type(msgs: List[Dict[str, Any]], kind: str) -> List[Dict[str, Any]]:
    return [m for m in msgs if m.get("type") == kind]


def error_traces(msgs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["trace"] for m in of_type(msgs, "TRACE") if m["trace"].get("type") == "ERROR"]


def record_counts(msgs: List[Dict[str, Any]]) -> Dict[str, int]:
    return dict(Counter(m["record"]["stream"] for m in of_type(msgs, "RECORD")))


# ---- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image() -> str:
    found = podman("image", "exists", IMAGE)
    if found.returncode != 0:
        pytest.fail(f"ZOHO_DESK_IMAGE={IMAGE} is not a local image; build it first (scripts/container_test.sh)")
    return IMAGE


@pytest.fixture(scope="module")
def simulator_process() -> Iterator[Dict[str, Any]]:
    """`python -m integration_tests.simulator` on a free port; yields its JSON line (base_url, config, ...)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "integration_tests.simulator", "--port", "0", "--seed", str(SIMULATOR_SEED)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line: List[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not line or not line[0].strip():
        process.kill()
        pytest.fail(
            f"the simulator printed no JSON line: {process.stderr.read() if process.poll() is not None else ''}"
        )
    try:
        yield json.loads(line[0])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def expected_counts() -> Dict[str, int]:
    """Records per stream in the simulator's seeded data (the subprocess uses the same seed and default sizes)."""
    from integration_tests.simulator import ZohoDeskSimulator
    from integration_tests.test_streams import expected_counts as counts_of

    return counts_of(ZohoDeskSimulator(seed=SIMULATOR_SEED))  # never started: only its seeded data is read


def _catalog() -> Dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for name in STREAMS
        ]
    }


@pytest.fixture(scope="module")
def workdir(simulator_process) -> Iterator[Path]:
    """config.json and configured_catalog.json, mounted at /secrets. The container runs as uid 1000 and writes
    refreshed tokens back to config.json (source_zoho_desk/config_file.py), so the directory is world-writable."""
    path = Path(tempfile.mkdtemp(prefix="zoho-desk-container-"))
    path.chmod(0o777)
    (path / "config.json").write_text(json.dumps(simulator_process["config"], indent=2))
    (path / "configured_catalog.json").write_text(json.dumps(_catalog(), indent=2))
    for name in ("config.json", "configured_catalog.json"):
        (path / name).chmod(0o666)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# ---- the image ----------------------------------------------------------------------------------------------------


def test_image_is_configured_like_an_airbyte_connector(image):
    inspected = podman("image", "inspect", image, "--format", "{{json .Config}}")
    assert inspected.returncode == 0, inspected.stderr
    config = json.loads(inspected.stdout)
    assert config["Entrypoint"] == ["source-zoho-desk"]
    assert "AIRBYTE_ENTRYPOINT=source-zoho-desk" in config["Env"]
    assert config["User"] == "airbyte"
    assert config["Labels"]["io.airbyte.name"] == "airbyte/source-zoho-desk"


def test_runs_as_the_non_root_airbyte_user(image):
    result = run_image(entrypoint="id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("uid=1000(airbyte) "), result.stdout


def test_spec(image):
    result = run_image("spec")
    assert result.returncode == 0, result.stderr
    specs = of_type(messages(result.stdout), "SPEC")
    assert len(specs) == 1, result.stdout[:2000]
    spec = specs[0]["spec"]
    connection = spec["connectionSpecification"]
    for key in ("data_center", "credentials"):
        assert key in connection["properties"], key
        assert key in connection["required"], key
    # Optional: the token's only organization is used when it is left out (organization.py).
    assert "org_id" in connection["properties"] and "org_id" not in connection["required"]
    assert spec["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/zoho-desk"


def test_check(image, workdir):
    result = run_image("check", "--config", f"{MOUNT}/config.json", workdir=workdir)
    assert result.returncode == 0, result.stderr
    statuses = of_type(messages(result.stdout), "CONNECTION_STATUS")
    assert [s["connectionStatus"]["status"] for s in statuses] == ["SUCCEEDED"], result.stdout[-3000:]


def test_discover(image, workdir):
    result = run_image("discover", "--config", f"{MOUNT}/config.json", workdir=workdir)
    assert result.returncode == 0, result.stderr
    catalogs = of_type(messages(result.stdout), "CATALOG")
    assert len(catalogs) == 1, result.stdout[-3000:]
    streams = {s["name"]: s for s in catalogs[0]["catalog"]["streams"]}
    assert sorted(streams) == sorted(STREAMS)
    for stream in streams.values():
        assert "full_refresh" in stream["supported_sync_modes"]
        for key in stream["source_defined_primary_key"]:  # e.g. channels: code; team_members: team_id, id
            assert stream["json_schema"]["properties"][key[0]], (stream["name"], key)


def test_read_emits_every_record_of_the_simulator(image, workdir, expected_counts, simulator_process):
    result = run_image(
        "read", "--config", f"{MOUNT}/config.json", "--catalog", f"{MOUNT}/configured_catalog.json", workdir=workdir
    )
    msgs = messages(result.stdout)
    assert error_traces(msgs) == []
    assert result.returncode == 0, result.stderr[-3000:]
    assert record_counts(msgs) == expected_counts
    completed = {
        m["trace"]["stream_status"]["stream_descriptor"]["name"]
        for m in of_type(msgs, "TRACE")
        if m["trace"].get("type") == "STREAM_STATUS" and m["trace"]["stream_status"]["status"] == "COMPLETE"
    }
    assert completed == set(STREAMS)
    # The closing per-stream usage line (source.py) reaches the platform's log.
    finished = [m["log"]["message"] for m in of_type(msgs, "LOG") if m["log"]["message"].startswith("Finished ")]
    for stream in STREAMS:
        assert any(line.startswith(f"Finished {stream}: {expected_counts[stream]:,} records") for line in finished), (
            stream
        )


def test_host_read_agrees_with_the_seeded_counts(workdir, expected_counts, simulator_process):
    """The same read with the connector installed on this host: guards the counting, not the image."""
    config = workdir / "host-config.json"
    config.write_text(json.dumps(simulator_process["config"]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "source_zoho_desk.run",
            "read",
            "--config",
            str(config),
            "--catalog",
            str(workdir / "configured_catalog.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    msgs = messages(result.stdout)
    assert error_traces(msgs) == []
    assert record_counts(msgs) == expected_counts


# ---- the webhook receiver in the same image -----------------------------------------------------------------------


def test_webhook_cli_help(image):
    result = run_image("--help", entrypoint="zoho-desk-webhooks")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "endpoint", "prune"):
        assert command in result.stdout


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls-cert.pem", directory / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    for path in (cert_path, key_path):
        path.chmod(0o644)  # read by uid 1000 in the container; a throwaway test key
    return cert_path, key_path


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_receiver_serves_https_from_the_image(image, workdir):
    """`serve` with --tls-cert/--tls-key and a SQLite buffer, as docs/zoho-desk.md shows (on a high port here)."""
    cert, key = _self_signed(workdir)
    buffer_url = f"sqlite:///{MOUNT}/buffer.db"
    added = run_image(
        "endpoint",
        "add",
        "--buffer-url",
        buffer_url,
        "--org-id",
        "60012345678",
        "--data-center",
        "com",
        workdir=workdir,
        entrypoint="zoho-desk-webhooks",
    )
    assert added.returncode == 0, added.stderr
    token_path = added.stdout.strip()
    assert token_path.startswith("/webhooks/") and len(token_path) > len("/webhooks/") + 16

    port, metrics_port = _free_port(), _free_port()
    name = f"zoho-desk-webhooks-{uuid.uuid4().hex[:8]}"
    started = podman(
        "run",
        "-d",
        "--rm",
        "--name",
        name,
        "--network=host",
        "-v",
        f"{workdir}:{MOUNT}",
        "--entrypoint",
        "zoho-desk-webhooks",
        image,
        "serve",
        "--buffer-url",
        buffer_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        str(metrics_port),
        "--tls-cert",
        f"{MOUNT}/{cert.name}",
        "--tls-key",
        f"{MOUNT}/{key.name}",
    )
    assert started.returncode == 0, started.stderr
    try:
        deadline, health, validation = time.monotonic() + 120, None, None
        while time.monotonic() < deadline:
            try:
                health = requests.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=30)  # its own port
                validation = requests.get(f"https://127.0.0.1:{port}{token_path}", verify=str(cert), timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                # Not up yet: refused before the socket listens, or no answer yet while the receiver starts
                # behind a listening socket (its connections wait in the backlog).
                health = validation = None
                time.sleep(0.5)
        logs = podman("logs", name).stderr
        assert health is not None, f"the receiver never answered on port {port}: {logs}"
        assert health.status_code == 200, logs
        # Zoho's validation GET on the endpoint path must get a 200, or Zoho refuses to create the webhook.
        assert validation.status_code == 200, logs
        assert f"listening on https://127.0.0.1:{port}" in logs
    finally:
        podman("rm", "-f", "-t", "5", name)
