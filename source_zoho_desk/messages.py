"""Small constructors and predicates for Airbyte protocol messages."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

from airbyte_cdk.models import (
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStreamStatus,
    Level,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status_as_airbyte_message


def log(message: str, level: Level = Level.INFO) -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=level, message=message))


def record(stream: str, data: Dict[str, Any]) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=int(time.time() * 1000))
    )


def status(stream: str, stream_status: AirbyteStreamStatus) -> AirbyteMessage:
    return stream_status_as_airbyte_message(StreamDescriptor(name=stream), stream_status)


def status_of(message: AirbyteMessage) -> Optional[Tuple[str, AirbyteStreamStatus]]:
    """(stream, status) of a stream-status trace, else None."""
    trace = message.trace if message.type == Type.TRACE else None
    if trace is None or trace.stream_status is None:
        return None
    return trace.stream_status.stream_descriptor.name, trace.stream_status.status


def is_status(message: AirbyteMessage, stream_status: AirbyteStreamStatus) -> bool:
    found = status_of(message)
    return found is not None and found[1] == stream_status


def record_of(message: AirbyteMessage) -> Optional[AirbyteRecordMessage]:
    return message.record if message.type == Type.RECORD else None


def stream_of(message: AirbyteMessage) -> Optional[str]:
    """The stream a record, per-stream state or stream status belongs to."""
    if message.record is not None and message.type == Type.RECORD:
        return message.record.stream
    if message.type == Type.STATE and message.state is not None and message.state.stream is not None:
        return message.state.stream.stream_descriptor.name
    found = status_of(message)
    return found[0] if found else None
