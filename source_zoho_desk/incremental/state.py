"""A stream's saved state, one plain JSON document: `{"position": N, "covered_until": ISO}`.

Every buffered event up to position N was emitted, and a receiver was known to be up from the last look at the
buffer until `covered_until`. Two optional keys: `cursor_offset` (added to positions in `_ab_cdc_cursor`, so cursors
keep growing after the buffer is replaced) and `deletes_only_through` (the snapshot boundary, kept while an
interrupted drain has not passed it)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    FailureType,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

if TYPE_CHECKING:
    from source_zoho_desk.incremental.plan import StreamPlan


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_int(state: Mapping[str, Any], key: str) -> Optional[int]:
    """A non-negative integer from the saved state; a hand-edited state gets a clear error, not a stack trace."""
    if state.get(key) is None:
        return None
    try:
        value = int(state[key])
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise AirbyteTracedException(
            message=f"The saved state has an invalid `{key}` ({str(state[key])[:40]!r}); expected a whole number of 0 "
            "or more. Reset the stream's state in Airbyte (or remove the key) to start over with a full snapshot.",
            failure_type=FailureType.config_error,
        )
    return value


def parse_time(value: Any) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def state_message(plan: "StreamPlan", position: int, covered_until: datetime) -> AirbyteMessage:
    blob: Dict[str, Any] = {"position": position, "covered_until": iso(covered_until)}
    if plan.cursor_offset:
        blob["cursor_offset"] = plan.cursor_offset
    if position < plan.deletes_only_through:
        blob["deletes_only_through"] = plan.deletes_only_through
    if plan.polled_until is not None:
        blob["modified_since"] = iso(plan.polled_until)
    return stream_state_message(plan.stream.name, blob)


def stream_state_message(stream: str, blob: Mapping[str, Any]) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream), stream_state=AirbyteStateBlob(**blob)
            ),
        ),
    )
