"""The log store of the fake client: lines kept in memory, searched by the backend's grammar."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from mcp_console.backend.monitor.log_search import LogFilter
from mcp_console.backend.monitor.log_service import log_filter
from mcp_console.schemas.logs import LogLevel, LogLine, LogQuery, LogStream

# The fake's deployments are told apart by name: every line is of "deployment 0".
_ALL = (0,)


class FakeLogs:
    """Lines added by tests (``add``), searched newest first as the backend searches."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._added = asyncio.Event()

    def add(
        self,
        deployment: str,
        text: str,
        *,
        instance: str = "i-1",
        level: LogLevel = LogLevel.INFO,
        stream: LogStream = LogStream.STDERR,
    ) -> LogLine:
        """Keep one line, as if an instance of ``deployment`` had just written it."""
        line = LogLine(
            id=len(self.lines) + 1,
            at=datetime.now(UTC),
            deployment_id=0,
            deployment=deployment,
            instance=instance,
            stream=stream,
            level=level,
            text=text,
        )
        self.lines.append(line)
        self._added.set()
        return line

    def search(self, query: LogQuery) -> list[LogLine]:
        """The newest lines matching ``query``.

        Raises:
            Invalid: as the backend refuses the query.
        """
        matches = _matcher(query)
        return [line for line in reversed(self.lines) if matches(line)][: query.limit]

    async def follow(self, query: LogQuery) -> AsyncIterator[LogLine]:
        """The newest lines oldest first, then each added line that matches."""
        matches = _matcher(query)
        seen = len(self.lines)
        for line in reversed(self.search(query)):
            yield line
        while True:
            self._added.clear()
            await self._added.wait()
            for line in self.lines[seen:]:
                if matches(line):
                    yield line
            seen = len(self.lines)


def _matcher(query: LogQuery) -> Callable[[LogLine], bool]:
    wanted = log_filter(query, _ALL)

    def matches(line: LogLine) -> bool:
        return (
            query.deployment in (None, line.deployment)
            and wanted.instance in (None, line.instance)
            and line.level.rank >= wanted.min_level
            and (wanted.since is None or line.at.timestamp() >= wanted.since)
            and (wanted.until is None or line.at.timestamp() <= wanted.until)
            and _text_matches(wanted, line.text)
        )

    return matches


def _text_matches(wanted: LogFilter, text: str) -> bool:
    match = wanted.text
    if match is None:
        return True
    if match.regex is not None:
        found = match.regex.search(text) is not None
    else:
        found = match.needle.lower() in text.lower()
    return found != match.inverse
