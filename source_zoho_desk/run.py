"""Console entry point `source-zoho-desk`: spec | check | discover | read, as Airbyte runs connectors."""

from __future__ import annotations

import sys
from typing import List, Optional

import time

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    Status,
    TraceType,
    Type,
)

from source_zoho_desk import config_checks
from source_zoho_desk.source import SourceZohoDesk


def _source(args: List[str]) -> SourceZohoDesk:
    # CDK 7 declarative sources take config, catalog and state at construction, so parse them first.
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceZohoDesk(
        config=SourceZohoDesk.read_config(config_path) if config_path else None,
        catalog=SourceZohoDesk.read_catalog(catalog_path) if catalog_path else None,
        state=SourceZohoDesk.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def _emit(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _refuse(command: str, problem: str) -> None:
    """A user mistake: `check` answers FAILED, other commands end with a config-error trace, no stack trace."""
    if command == "check":
        _emit(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=problem)))
        sys.exit(0)
    _emit(
        AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=time.time() * 1000,
                error=AirbyteErrorTraceMessage(message=problem, failure_type=FailureType.config_error),
            ),
        )
    )
    sys.exit(1)


def run(args: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else ""
    config_path = AirbyteEntrypoint.extract_config(args) if command in ("check", "discover", "read") else None
    if config_path:
        try:
            problems = config_checks.config_problems(SourceZohoDesk.read_config(config_path))
        except (OSError, ValueError) as error:
            problems = [f"Could not read the config file {config_path}: {error}"]
        if problems:
            _refuse(command, " ".join(problems))
    launch(_source(args), args)


if __name__ == "__main__":
    run()
