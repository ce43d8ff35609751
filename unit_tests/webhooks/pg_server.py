"""Start a real, throwaway PostgreSQL server for tests (and the benchmark).

PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres` system
user (or `nobody`) in a private temporary directory it owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass

SEARCH_DIRS = ["/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin"]


def find_pg_bin() -> str | None:
    """Directory holding initdb, pg_ctl and postgres, or None."""
    on_path = shutil.which("initdb")
    candidates = ([os.path.dirname(on_path)] if on_path else []) + SEARCH_DIRS
    for directory in candidates:
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


@dataclass
class PostgresServer:
    bin_dir: str
    base_dir: str
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def halt(self) -> None:
        """Shut the server down (an outage), keeping its data for `resume`."""
        self._run("pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = (
            f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c shared_buffers=32MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            self.data_dir,
            "-l",
            os.path.join(self.base_dir, "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    @property
    def data_dir(self) -> str:
        return os.path.join(self.base_dir, "data")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bin_dir, tool), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)


def start_postgres(bin_dir: str) -> PostgresServer:
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    base_dir = tempfile.mkdtemp(prefix="zd-webhooks-pg-")  # in /tmp, reachable by run_as
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(base_dir, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, base_dir=base_dir, port=_free_port(), run_as=run_as)
    try:
        server._run(
            "initdb", "-D", server.data_dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        server.resume()
    except subprocess.CalledProcessError as exc:
        log = _read(os.path.join(base_dir, "server.log"))
        shutil.rmtree(base_dir, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr or exc.stdout}\n{log}") from exc
    return server


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()[-2000:]
    except OSError:
        return ""
