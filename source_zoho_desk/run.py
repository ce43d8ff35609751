"""Console entry point `source-zoho-desk`: spec | check | discover | read, as Airbyte runs connectors."""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from typing import Callable, List, NoReturn, Optional, TypeVar

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

T = TypeVar("T")


def _source(command: str, args: List[str]) -> SourceZohoDesk:
    # CDK 7 declarative sources take config, catalog and state at construction, so parse them first.
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceZohoDesk(
        config=SourceZohoDesk.read_config(config_path) if config_path else None,
        catalog=_parsed(command, "catalog", catalog_path, SourceZohoDesk.read_catalog, CATALOG_HELP),
        state=_parsed(command, "state", state_path, SourceZohoDesk.read_state, STATE_HELP),
        config_path=config_path,
    )


CATALOG_HELP = (
    "Pass the configured catalog Airbyte writes for a sync (integration_tests/configured_catalog.json is an example)."
)
STATE_HELP = (
    "Pass the state the last sync emitted: a JSON list of per-stream STATE messages, "
    '[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "tickets"}, "stream_state": {...}}}]. '
    "A legacy or hand-written state cannot be used: reset the connection's state in Airbyte, or leave out --state "
    "to start over with a first sync."
)


def _parsed(command: str, what: str, path: Optional[str], reader: Callable[[str], T], help_text: str) -> Optional[T]:
    """A user's catalog or state file, or one sentence saying what is wrong with it (never a serializer traceback)."""
    if not path:
        return None
    try:
        return reader(path)
    except Exception as error:  # noqa: BLE001 - serpyco, JSON and OS errors alike are the user's file
        first_line = str(error).strip().splitlines()[-1][:300] if str(error).strip() else type(error).__name__
        _refuse(
            command,
            f"The {what} file {path} is not an Airbyte {what} this connector can read ({first_line}). {help_text}",
        )


def _emit(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _refuse(command: str, problem: str) -> NoReturn:
    """A user mistake: `check` answers FAILED, other commands end with a config-error trace, no stack trace."""
    if command == "check":
        _emit(
            AirbyteMessage(
                type=Type.CONNECTION_STATUS,
                connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=problem),
            )
        )
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
    if command in ("--version", "version"):
        print(f"source-zoho-desk {version('source-zoho-desk')} (airbyte-cdk {version('airbyte-cdk')})")
        return
    config_path = AirbyteEntrypoint.extract_config(args) if command in ("check", "discover", "read") else None
    if config_path:
        try:
            SourceZohoDesk.read_config(config_path)
        except (OSError, ValueError) as error:
            _refuse(command, f"Could not read the config file {config_path}: {error}")
    source = _source(command, args)  # applies the manifest's config migrations (an 0.0.x config, upgraded)
    if config_path:
        problems = config_checks.config_problems(source.connector_config)
        if problems:
            _refuse(command, " ".join(problems))
    launch(source, args)


if __name__ == "__main__":
    run()
