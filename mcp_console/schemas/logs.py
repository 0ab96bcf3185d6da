"""Log lines of the log store and the query that searches them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from mcp_console.schemas.base import Dto

MAX_LOG_RESULTS = 100_000


class LogLevel(StrEnum):
    """How severe a line is; a search for a level finds that level and worse."""

    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for debug up to 3 for error (what the store keeps)."""
        return _RANKS.index(self)


_RANKS = (LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR)


def level_of_rank(rank: int) -> LogLevel:
    """The level stored as ``rank``."""
    return _RANKS[rank]


class LogStream(StrEnum):
    """Where a line came from."""

    STDOUT = "stdout"
    STDERR = "stderr"
    # One line per gateway request.
    ACCESS = "access"
    # Written by mcp-console about the instance (it exited, a bad stdout line, ...).
    CONSOLE = "console"


class LogQuery(Dto):
    """A search of the log store; every field narrows it.

    ``text`` is a case-insensitive substring, ``/regex/`` (Python syntax), or either
    after ``!`` for the lines that do not match. ``since``/``until`` take a duration
    back from now (``1h``, ``30m``, ``7d``) or an ISO 8601 time. ``level`` finds that
    level and worse (``debug``, ``info``, ``warn``, ``error``).
    """

    deployment: str | None = None
    instance: str | None = None
    level: str | None = None
    since: str | None = None
    until: str | None = None
    text: str | None = None
    limit: int = Field(default=100, ge=1, le=MAX_LOG_RESULTS)


class LogLine(Dto):
    """One stored line, its secret values already masked."""

    id: int
    at: datetime
    deployment_id: int
    # How the reader names the deployment: ``name`` when theirs, else ``owner/name``.
    deployment: str
    instance: str
    stream: LogStream
    level: LogLevel
    text: str
