"""Run `zoho-desk-webhooks serve` as a real subprocess for end-to-end tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the HTTPS tests serve a self-signed cert

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServedReceiver:
    def __init__(
        self, buffer_url: str, *extra: str, heartbeat_seconds: float = 0.2, port: int = 0, metrics_port: int = 0
    ) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zoho_desk_webhooks.cli",
                "serve",
                "--buffer-url",
                buffer_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--heartbeat-seconds",
                str(heartbeat_seconds),
                "--metrics-port",
                str(metrics_port),
                *extra,
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._collect, daemon=True)  # also keeps the pipe drained
        self._reader.start()
        self.base_url, self.metrics_url = self._wait_for_addresses()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def _collect(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def _wait_for_addresses(self, timeout: float = 60.0) -> tuple[str, str]:
        """The webhook port's and the metrics port's base URLs once the receiver answers requests. The addresses are
        printed before uvicorn has run the app's startup (the first heartbeat) and installed its signal handlers, so
        a request or a SIGTERM right after them could meet a receiver that is not up yet: wait until /healthz
        answers, whatever its status (the metrics port is served once the webhook port's startup is done)."""
        deadline = time.monotonic() + timeout
        address = metrics = None
        while time.monotonic() < deadline and self.process.poll() is None:
            if address is None or metrics is None:
                match = re.search(r"listening on (\S+)", self.log)
                address = match.group(1) if match else None
                match = re.search(r"metrics and health on (\S+)", self.log)
                metrics = match.group(1) if match else None
            if address and metrics and _answers(f"{metrics}/healthz"):
                return address, metrics
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("receiver did not start:\n" + self.log)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)

    def stop(self) -> str:
        """Graceful stop (SIGTERM); returns everything the receiver logged."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("receiver did not stop on SIGTERM:\n" + self.log) from None
        self._reader.join(timeout=5)
        return self.log


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=5, verify=False)
    except requests.RequestException:
        return False
    return True
