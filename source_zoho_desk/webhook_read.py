"""An incremental read that follows the webhook buffer: drains what it can, snapshots what it must (webhook_sync.py
decides), and runs the API reads of everything else alongside, in one pass of the CDK's concurrent read."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Mapping, MutableMapping, Optional

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    FailureType,
    SyncMode,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.desk_client import DeskClient
from source_zoho_desk.messages import is_status, record, status, stream_of
from source_zoho_desk.webhook_sync import (
    CURSOR_FIELD,
    RECYCLE_BIN_PAGE,
    EventRecords,
    StreamPlan,
    WebhookStream,
    drain,
    plan_stream,
    recycle_bin_deletes,
)
from zoho_desk_webhooks.buffer import EventBuffer, open_buffer, redact_url
from zoho_desk_webhooks.errors import EventBufferError

ApiRead = Callable[[ConfiguredAirbyteCatalog], Iterator[AirbyteMessage]]


def read_following_webhooks(
    config: MutableMapping[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    state: List[AirbyteStateMessage],
    webhook_streams: Mapping[str, WebhookStream],
    followed: List[str],
    api_read: ApiRead,
) -> Iterator[AirbyteMessage]:
    """`followed` streams come from the buffer (after a snapshot through `api_read` when needed); the rest of the
    catalog is read through `api_read` as usual."""
    org_id = str(config["org_id"])
    saved = {m.stream.stream_descriptor.name: m.stream.stream_state.__dict__ for m in state if m.stream and m.stream.stream_state}
    with opened_buffer(config["webhook_buffer_url"]) as buffer:
        now = buffer.clock()  # coverage is measured in the buffer's clock, as the receivers stamp it
        plans = [plan_stream(webhook_streams[name], saved.get(name), buffer, org_id, now) for name in followed]
        client = DeskClient(config)  # type: ignore[arg-type]

        def follow(plan: StreamPlan) -> Iterator[AirbyteMessage]:
            if plan.deletes_since:
                for deleted in recycle_bin_deletes(
                    lambda offset: client.list_page("recycleBin", offset, RECYCLE_BIN_PAGE), plan.stream, plan.deletes_since, plan.snapshot_cursor
                ):
                    yield record(plan.stream.name, deleted)
            converter = EventRecords(plan, client.get_record)
            yield from drain(plan, buffer, org_id, converter)
            yield status(plan.stream.name, AirbyteStreamStatus.COMPLETE)

        for plan in plans:
            if not plan.needs_snapshot:
                yield status(plan.stream.name, AirbyteStreamStatus.STARTED)
                yield status(plan.stream.name, AirbyteStreamStatus.RUNNING)
                yield from follow(plan)

        snapshots = {plan.stream.name: plan for plan in plans if plan.needs_snapshot}
        api_streams = [s for s in catalog.streams if s.stream.name not in followed or s.stream.name in snapshots]
        api_catalog = ConfiguredAirbyteCatalog(
            streams=[
                ConfiguredAirbyteStream(stream=s.stream, sync_mode=SyncMode.full_refresh, destination_sync_mode=s.destination_sync_mode,
                                        cursor_field=s.cursor_field, primary_key=s.primary_key)
                if s.stream.name in snapshots else s
                for s in api_streams
            ]
        )
        if api_catalog.streams:
            for message in api_read(api_catalog):
                held = stream_of(message) in snapshots
                if held and message.type == Type.RECORD:
                    # Snapshot rows rank below every event taken after the noted position.
                    message.record.data[CURSOR_FIELD] = snapshots[message.record.stream].snapshot_cursor
                elif held and (message.type == Type.STATE or is_status(message, AirbyteStreamStatus.COMPLETE)):
                    continue  # the stream is not finished (nor its state known) until its events are drained
                yield message
        for plan in snapshots.values():
            yield from follow(plan)


def opened_buffer(url: str) -> EventBuffer:
    try:
        return open_buffer(url)
    except EventBufferError as error:
        raise AirbyteTracedException(
            message=f"Could not open the webhook buffer {redact_url(url)}: {error}. Check webhook_buffer_url: it must be "
            "the URL the zoho-desk-webhooks receiver was started with, reachable from this connector.",
            failure_type=FailureType.config_error,
        ) from error


def buffer_problem(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    try:
        with opened_buffer(url) as buffer:
            buffer.ping()
    except AirbyteTracedException as error:
        return error.message
    except EventBufferError as error:
        return f"The webhook buffer {redact_url(url)} does not answer: {error}."
    return None
