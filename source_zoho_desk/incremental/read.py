"""The one entry point of incremental reads. Polled streams list their changes from Zoho's search (polling.py).
Streams that follow webhooks are planned, drained when they need no snapshot, snapshotted in the same pass of the
CDK's concurrent read as every other stream, then drained. A stream is COMPLETE only after its drain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    FailureType,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.desk_client import DeskClient
from source_zoho_desk.incremental.children import child_lists
from source_zoho_desk.incremental.drain import (
    RECYCLE_BIN_PAGE,
    EventRecords,
    drain,
    recycle_bin_deletes,
)
from source_zoho_desk.incremental.plan import StreamPlan, plan_stream
from source_zoho_desk.incremental.polling import SearchPage, modified_rows, plan_poll, poll
from source_zoho_desk.incremental.snapshot import api_catalog, stamped
from source_zoho_desk.incremental.state import iso, parse_time, utc_now
from source_zoho_desk.incremental.streams import CURSOR_FIELD, IncrementalStream
from source_zoho_desk.incremental.transformations import RowTransform, row_transforms, transformed
from source_zoho_desk.messages import record, status
from zoho_desk_webhooks.buffer import EventBuffer, open_buffer, redact_url
from zoho_desk_webhooks.errors import EventBufferError

ApiRead = Callable[[ConfiguredAirbyteCatalog], Iterator[AirbyteMessage]]


def read_incremental(
    config: MutableMapping[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    state: List[AirbyteStateMessage],
    streams: Mapping[str, IncrementalStream],
    polled: List[str],
    followed: List[str],
    api_read: ApiRead,
    manifest: Mapping[str, Any],
    reconcile: bool = False,
) -> Iterator[AirbyteMessage]:
    """`polled` streams come from Zoho's search, `followed` streams from the webhook buffer (after a snapshot
    through `api_read` when needed, or with `reconcile` (mode `both`) after a poll of what changed since the last
    sync); the rest of the catalog is read through `api_read` as usual. Rows read outside `api_read` get their
    stream's transformations from the (resolved) `manifest`, as the CDK gives them to the rows it reads."""
    saved = {
        m.stream.stream_descriptor.name: m.stream.stream_state.__dict__
        for m in state
        if m.stream and m.stream.stream_state
    }
    client = DeskClient(config)
    start_date = parse_time(config.get("start_date"))
    # Per-ticket streams are read by their manifest definitions, which transform their rows already.
    transforms = row_transforms(manifest, [n for n in polled + followed if not streams[n].children_of], config)
    for name in polled:
        stream = streams[name]
        plan = plan_poll(stream, saved.get(name), start_date)
        children = child_lists(manifest, name, config).rows if stream.children_of else None
        yield status(name, AirbyteStreamStatus.STARTED)
        yield status(name, AirbyteStreamStatus.RUNNING)
        changes = poll(plan, search_pages(client, stream), recycle_bin_pages(client, stream), utc_now(), children)
        yield from transformed(changes, transforms)
        yield status(name, AirbyteStreamStatus.COMPLETE)
    if not followed:
        to_read = api_catalog(catalog, polled, {})
        if to_read.streams:
            yield from api_read(to_read)
        return
    yield from _follow_webhooks(
        config, catalog, saved, streams, polled, followed, client, api_read, transforms, reconcile
    )


def search_pages(client: DeskClient, stream: IncrementalStream) -> SearchPage:
    def page(
        ranges: Mapping[str, Tuple[datetime, datetime]], sort_by: str, offset: int, limit: int
    ) -> List[Dict[str, Any]]:
        params = {f"{field}Range": f"{iso(start)},{iso(end)}" for field, (start, end) in ranges.items()}
        return client.list_page(
            str(stream.search_path), offset, limit, params={**params, "sortBy": sort_by}, stream=stream.name
        )

    return page


def recycle_bin_pages(client: DeskClient, stream: IncrementalStream) -> Callable[[int], List[Dict[str, Any]]]:
    """The stream's recycle bin entries, newest deletion first."""
    params = {"sortBy": "-deletedTime", **({"module": stream.recycle_bin_module} if stream.recycle_bin_module else {})}
    return lambda offset: client.list_page("recycleBin", offset, RECYCLE_BIN_PAGE, params=params, stream=stream.name)


def _follow_webhooks(
    config: MutableMapping[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    saved: Mapping[str, Any],
    streams: Mapping[str, IncrementalStream],
    polled: List[str],
    followed: List[str],
    client: DeskClient,
    api_read: ApiRead,
    transforms: Mapping[str, RowTransform],
    reconcile: bool,
) -> Iterator[AirbyteMessage]:
    org_id = str(config["org_id"])
    start_date = parse_time(config.get("start_date"))
    with opened_buffer(config["webhook_buffer_url"]) as buffer:
        now = buffer.clock()  # coverage is measured in the buffer's clock, as the receivers stamp it

        def window(name: str) -> Optional[Tuple[datetime, datetime]]:
            if not (reconcile and streams[name].can_poll):
                return None
            return plan_poll(streams[name], saved.get(name), start_date).since, utc_now()

        plans = [plan_stream(streams[name], saved.get(name), buffer, org_id, now, window(name)) for name in followed]

        def follow(plan: StreamPlan) -> Iterator[AirbyteMessage]:
            converter = EventRecords(plan, client.get_record)
            if plan.deletes_since:
                bin_page = recycle_bin_pages(client, plan.stream)
                for deleted in recycle_bin_deletes(
                    bin_page, plan.stream, plan.deletes_since, lambda _: plan.snapshot_cursor
                ):
                    yield record(plan.stream.name, deleted)
            if plan.poll_since is not None and plan.polled_until is not None:
                for row in modified_rows(
                    search_pages(client, plan.stream), plan.poll_since, plan.polled_until, plan.stream.name
                ):
                    row[CURSOR_FIELD] = plan.snapshot_cursor
                    converter.note_polled(str(row.get("id")), row)
                    yield record(plan.stream.name, row)
            yield from drain(plan, buffer, org_id, converter)
            yield status(plan.stream.name, AirbyteStreamStatus.COMPLETE)

        for plan in plans:
            if not plan.needs_snapshot:
                yield status(plan.stream.name, AirbyteStreamStatus.STARTED)
                yield status(plan.stream.name, AirbyteStreamStatus.RUNNING)
                yield from transformed(follow(plan), transforms)

        snapshots = {plan.stream.name: plan for plan in plans if plan.needs_snapshot}
        to_read = api_catalog(catalog, followed + polled, snapshots)
        if to_read.streams:
            yield from stamped(api_read(to_read), snapshots)
        for plan in snapshots.values():
            yield from transformed(follow(plan), transforms)


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
