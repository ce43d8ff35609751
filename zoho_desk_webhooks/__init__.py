"""Webhook receiver and durable event buffer for Zoho Desk push events."""

from .buffer import EventBuffer, open_buffer
from .errors import BufferUnavailable, EventBufferError, InvalidBufferUrl
from .models import Endpoint, StoredEvent

__all__ = [
    "BufferUnavailable",
    "Endpoint",
    "EventBuffer",
    "EventBufferError",
    "InvalidBufferUrl",
    "StoredEvent",
    "open_buffer",
]
