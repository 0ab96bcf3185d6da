"""The Python SDK: ``Console`` (blocking) and ``AsyncConsole`` over the daemon's HTTP API.

Every error is a ``ConsoleError``; ``Unreachable`` and ``TimedOut`` are the ``Unavailable``
of a daemon that cannot be reached or does not answer in time.
"""

from mcp_console.schemas.errors import (
    Conflict,
    ConsoleError,
    Forbidden,
    Invalid,
    NotFound,
    TimedOut,
    Unauthorized,
    Unavailable,
    Unreachable,
)
from mcp_console.sdk.async_console import AsyncConsole
from mcp_console.sdk.console import Console

__all__ = [
    "AsyncConsole",
    "Conflict",
    "Console",
    "ConsoleError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TimedOut",
    "Unauthorized",
    "Unavailable",
    "Unreachable",
]
