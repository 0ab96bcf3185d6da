"""The one rule that gives every stored log line its level."""

from __future__ import annotations

import json
import re

from mcp_console.schemas.logs import LogLevel, LogStream

# Words that name a level, as loggers print them (Python's logging, uvicorn, Go's log/slog,
# pino, Rust's tracing), looked for near the start of the line only: a level word deep
# in a message ("retrying after ERROR from upstream") says less about the line.
_WORD = re.compile(
    r"\b(?:level[=:]\s*\"?)?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL|PANIC)\b",
    re.IGNORECASE,
)
_HEAD = 120
_NAMES = {
    "trace": LogLevel.DEBUG,
    "debug": LogLevel.DEBUG,
    "info": LogLevel.INFO,
    "notice": LogLevel.INFO,
    "warn": LogLevel.WARN,
    "warning": LogLevel.WARN,
    "error": LogLevel.ERROR,
    "err": LogLevel.ERROR,
    "critical": LogLevel.ERROR,
    "fatal": LogLevel.ERROR,
    "panic": LogLevel.ERROR,
}
_JSON_KEYS = ("level", "severity", "levelname", "lvl")
# pino writes numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
_PINO = ((50, LogLevel.ERROR), (40, LogLevel.WARN), (30, LogLevel.INFO))


def level_of(stream: str, text: str, status: int | None = None) -> LogLevel:
    """The level of one line.

    An access line's level follows its HTTP status (5xx error, 4xx warn, else info). Any
    other line says its own: a JSON object's ``level``/``severity``/``levelname``, else a
    level word near its start (``ERROR``, ``level=warn``, ``[WARNING]``; in lower case only
    as ``level=``), a Python traceback is an error. A line that says nothing is ``info``,
    whatever its stream: servers write all their logging to stderr, so stderr alone says
    nothing about severity.
    """
    if stream == LogStream.ACCESS and status is not None:
        if status >= 500:
            return LogLevel.ERROR
        return LogLevel.WARN if status >= 400 else LogLevel.INFO
    stripped = text.lstrip()
    if stripped.startswith("{"):
        found = _json_level(stripped)
        if found is not None:
            return found
    if stripped.startswith("Traceback (most recent call last)"):
        return LogLevel.ERROR
    for match in _WORD.finditer(text, 0, _HEAD):
        word = match.group(1)
        # "info" or "error" in lower case is prose unless written as level=...
        if word.isupper() or match.group(0).lower().startswith("level"):
            return _NAMES[word.lower()]
    return LogLevel.INFO


def _json_level(text: str) -> LogLevel | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for key in _JSON_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.lower() in _NAMES:
            return _NAMES[value.lower()]
        if isinstance(value, int) and not isinstance(value, bool):
            return next((level for floor, level in _PINO if value >= floor), LogLevel.DEBUG)
    return None
