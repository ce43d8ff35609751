"""The Zoho Desk source: the declarative manifest, a plain-language check, incremental reads that follow the
webhook buffer, and a per-stream usage report."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    FailureType,
    Level,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.check import check_connection
from source_zoho_desk.components.credits import CreditLedger
from source_zoho_desk.connector_config import ConnectorConfig
from source_zoho_desk.incremental.read import buffer_problem, read_incremental
from source_zoho_desk.incremental.streams import (
    CURSOR_FIELD,
    IncrementalStream,
    incremental_mode,
    incremental_streams,
    readers,
)
from source_zoho_desk.messages import log, record_of, status_of
from source_zoho_desk.organization import ensure_org_id

PROGRESS_EVERY_RECORDS = 5000


class SourceZohoDesk(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(
            path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state, config_path=config_path
        )
        # Every component the CDK builds from now on gets this config, and with it the run's tokens and ledger.
        self._run_config = ConnectorConfig(self._config, config_path=config_path)
        self._config = self._config_for_validation = self._run_config

    @property
    def connector_config(self) -> ConnectorConfig:
        """The run's config, after the manifest's migrations and transformations."""
        return self._run_config

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        definitions = self.resolved_manifest["definitions"]
        try:
            ensure_org_id(self._run_config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        problem = check_connection(
            self._run_config, definitions["check_requests"], definitions["scopes"]
        ) or buffer_problem(self._config.get("webhook_buffer_url"))
        if problem:
            return AirbyteConnectionStatus(status=Status.FAILED, message=problem)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        ensure_org_id(self._run_config)
        keys = self._primary_keys()
        unknown = sorted({s.stream.name for s in catalog.streams} - set(keys))
        if unknown:
            raise AirbyteTracedException(
                message=f"The catalog names streams this connector does not have: {', '.join(unknown)}. Its streams are "
                f"{', '.join(keys)}; run discover again and select from those (stream names are snake_case).",
                failure_type=FailureType.config_error,
            )
        yield from _report_usage(self._run_config.ledger, self._read_streams(logger, config, catalog, state or []))

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        """Streams that Zoho's search lists by modified time, or whose webhook events a configured buffer holds,
        offer incremental sync."""
        ensure_org_id(self._run_config)
        catalog = super().discover(logger, config)
        polled, followed = self._incremental_readers()
        for stream in catalog.streams:
            if stream.name in polled or stream.name in followed:
                stream.supported_sync_modes = [SyncMode.full_refresh, SyncMode.incremental]
                stream.source_defined_cursor = True
                stream.default_cursor_field = [CURSOR_FIELD]
        return catalog

    def _primary_keys(self) -> Dict[str, List[List[str]]]:
        """Each stream's own key, from the manifest (a hand-written catalog may name none or the wrong ones; and
        discover would load every schema, custom field definitions included, for nothing)."""
        keys: Dict[str, List[List[str]]] = {}
        for stream in self.resolved_manifest["streams"]:
            key = stream.get("primary_key") or []
            keys[stream["name"]] = (
                [[key]] if isinstance(key, str) else [[part] if isinstance(part, str) else list(part) for part in key]
            )
        return keys

    def _incremental_readers(self) -> Tuple[Dict[str, IncrementalStream], Dict[str, IncrementalStream]]:
        polled, followed = readers(
            incremental_streams(self.resolved_manifest["definitions"]), incremental_mode(self._config)
        )
        return polled, (followed if self._config.get("webhook_buffer_url") else {})

    def _read_streams(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: List[AirbyteStateMessage],
    ) -> Iterator[AirbyteMessage]:
        polled, followed = self._incremental_readers()
        incremental = [s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.incremental]
        full_only = [name for name in incremental if name not in polled and name not in followed]
        if full_only:
            yield log(
                f"Incremental sync was asked for {', '.join(full_only)}, which can only be read in full with this config "
                f"(incremental_mode {incremental_mode(self._config)}): Zoho's search lists "
                f"{', '.join(polled) or 'no stream'} by modified time, and webhook events need webhook_buffer_url. "
                "Every record is read on each sync.",
                level=Level.WARN,
            )
        to_poll = [name for name in incremental if name in polled]
        to_follow = [name for name in incremental if name in followed]
        if not to_poll and not to_follow:
            yield from super().read(logger, config, catalog, state)
            return
        yield from read_incremental(
            self._run_config,
            catalog,
            state,
            {**polled, **followed},
            to_poll,
            to_follow,
            lambda api_catalog: super(SourceZohoDesk, self).read(logger, config, api_catalog, state),
            self.resolved_manifest,
            reconcile=incremental_mode(self._config) == "both",
        )


def _report_usage(ledger: CreditLedger, messages: Iterator[AirbyteMessage]) -> Iterator[AirbyteMessage]:
    """Adds a progress line every PROGRESS_EVERY_RECORDS records and a usage line when a stream completes."""
    records: Counter[str] = Counter()
    for message in messages:
        yield message
        row, status = record_of(message), status_of(message)
        if row is not None:
            records[row.stream] += 1
            if records[row.stream] % PROGRESS_EVERY_RECORDS == 0:
                yield log(f"Progress: {ledger.get(row.stream).summary(row.stream, records[row.stream])}")
        elif status is not None and status[1] == AirbyteStreamStatus.COMPLETE:
            yield log(f"Finished {ledger.get(status[0]).summary(status[0], records[status[0]])}")
