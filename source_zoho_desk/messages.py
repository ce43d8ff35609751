"""Small constructors and predicates for Airbyte protocol messages."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

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
    return AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data, emitted_at=int(time.time() * 1000)))


def status(stream: str, stream_status: AirbyteStreamStatus) -> AirbyteMessage:
    return stream_status_as_airbyte_message(StreamDescriptor(name=stream), stream_status)


def is_status(message: AirbyteMessage, stream_status: AirbyteStreamStatus) -> bool:
    return (
        message.type == Type.TRACE
        and message.trace.stream_status is not None
        and message.trace.stream_status.status == stream_status
    )


def stream_of(message: AirbyteMessage) -> Optional[str]:
    if message.type == Type.RECORD:
        return message.record.stream
    if message.type == Type.STATE and message.state.stream:
        return message.state.stream.stream_descriptor.name
    if message.type == Type.TRACE and message.trace.stream_status:
        return message.trace.stream_status.stream_descriptor.name
    return None
