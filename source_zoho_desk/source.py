"""The Zoho Desk source: the declarative manifest, a plain-language check, incremental reads that follow the
webhook buffer, and a per-stream usage report."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict, deque
from typing import Any, Deque, Dict, Iterator, List, Mapping, Optional

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
    FailureType,
    Level,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.check import check_connection
from source_zoho_desk.components.credits import CreditLedger
from source_zoho_desk.connector_config import ConnectorConfig
from source_zoho_desk.messages import log, record_of, status_of
from source_zoho_desk.incremental.read import buffer_problem, read_incremental
from source_zoho_desk.incremental.streams import CURSOR_FIELD, WebhookStream

PROGRESS_EVERY_RECORDS = 5000
# How many recent keys per stream are remembered to drop rows repeated by overlapping pages: far more than any
# overlap, far less than a stream.
RECENT_RECORDS_PER_STREAM = 1000


class RecentRecords:
    """The last `size` keys seen, with O(1) membership."""

    def __init__(self, size: int = RECENT_RECORDS_PER_STREAM) -> None:
        self._order: Deque[Any] = deque()
        self._members: set = set()
        self._size = size

    def seen_before(self, key: Any) -> bool:
        if key in self._members:
            return True
        self._order.append(key)
        self._members.add(key)
        if len(self._order) > self._size:
            self._members.discard(self._order.popleft())
        return False


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

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        definitions = self.resolved_manifest["definitions"]
        problem = check_connection(self._run_config, definitions["check_requests"], definitions["scopes"]) or buffer_problem(
            self._config.get("webhook_buffer_url")
        )
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
        # The streams' own keys, not the catalog's: a hand-written catalog may name none or the wrong ones.
        keys = {s.name: s.source_defined_primary_key or [] for s in super().discover(logger, config).streams}
        unknown = sorted({s.stream.name for s in catalog.streams} - set(keys))
        if unknown:
            raise AirbyteTracedException(
                message=f"The catalog names streams this connector does not have: {', '.join(unknown)}. Its streams are "
                f"{', '.join(keys)}; run discover again and select from those (stream names are snake_case).",
                failure_type=FailureType.config_error,
            )
        yield from _report_usage(self._run_config.ledger, _drop_repeats(self._read_streams(logger, config, catalog, state or []), keys))

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        """Streams with Zoho webhook events offer incremental sync once a webhook buffer is configured."""
        catalog = super().discover(logger, config)
        for stream in catalog.streams:
            if stream.name in self._webhook_streams():
                stream.supported_sync_modes = [SyncMode.full_refresh, SyncMode.incremental]
                stream.source_defined_cursor = True
                stream.default_cursor_field = [CURSOR_FIELD]
        return catalog

    def _webhook_streams(self) -> Dict[str, WebhookStream]:
        if not self._config.get("webhook_buffer_url"):
            return {}
        definitions = self.resolved_manifest["definitions"]["webhook_streams"]
        return {name: WebhookStream.from_manifest(name, definition) for name, definition in definitions.items()}

    def _read_streams(
        self, logger: logging.Logger, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog, state: List[AirbyteStateMessage]
    ) -> Iterator[AirbyteMessage]:
        webhook_streams = self._webhook_streams()
        incremental = [s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.incremental]
        followed = [name for name in incremental if name in webhook_streams]
        if len(followed) < len(incremental):
            yield log(
                f"Incremental sync was asked for {', '.join(n for n in incremental if n not in followed)}, which can only "
                "be read in full: incremental sync follows Zoho Desk webhooks, so it needs webhook_buffer_url (see the "
                f"docs' webhook section) and covers {', '.join(self.resolved_manifest['definitions']['webhook_streams'])}. "
                "Every record is read on each sync.",
                level=Level.WARN,
            )
        if not followed:
            yield from super().read(logger, config, catalog, state)
            return
        yield from read_incremental(
            self._run_config, catalog, state, webhook_streams, followed, lambda api_catalog: super(SourceZohoDesk, self).read(logger, config, api_catalog, state)
        )


def _drop_repeats(messages: Iterator[AirbyteMessage], primary_keys: Mapping[str, List[List[str]]]) -> Iterator[AirbyteMessage]:
    """Drops a row whose key was among the stream's recent rows: offset pages overlap on purpose (see
    SentLimitOffsetIncrement) and may overlap more on 1-based lists. Webhook events of one id differ in their
    change cursor, so they all pass."""
    recent: Dict[str, RecentRecords] = defaultdict(RecentRecords)
    for message in messages:
        row = record_of(message)
        if row is not None and primary_keys.get(row.stream):
            key = tuple(str(row.data.get(path[0])) for path in primary_keys[row.stream]) + (row.data.get(CURSOR_FIELD),)
            if recent[row.stream].seen_before(key):
                continue
        yield message


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
