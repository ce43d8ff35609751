"""Errors of the event buffer."""


class EventBufferError(Exception):
    """Base of the buffer's own errors."""


class InvalidBufferUrl(EventBufferError, ValueError):
    """The buffer URL is not one we can open."""


class BufferUnavailable(EventBufferError):
    """The database cannot be reached or used right now."""


class UserError(Exception):
    """A mistake the user can fix; the CLI prints it as one line and exits with code 2."""
