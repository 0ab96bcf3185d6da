"""The log store of the fake client: lines kept in memory, searched by the same grammar."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.logs import LogLevel, LogLine, LogQuery, LogStream


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
        """The newest lines matching ``query``."""
        matches = _matcher(query)
        found = [line for line in reversed(self.lines) if matches(line)]
        return found[: query.limit]

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


def _matcher(query: LogQuery) -> _Match:
    return _Match(query)


class _Match:
    def __init__(self, query: LogQuery) -> None:
        self.query = query
        self.rank = 0
        if query.level is not None:
            try:
                self.rank = LogLevel(query.level.lower()).rank
            except ValueError:
                raise Invalid(f"unknown log level {query.level!r}", field="level") from None
        text = query.text or ""
        self.inverse = text.startswith("!")
        body = text[1:] if self.inverse else text
        self.regex: re.Pattern[str] | None = None
        if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
            try:
                self.regex = re.compile(body[1:-1])
            except re.error as exc:
                raise Invalid(f"invalid regex {body}: {exc}", field="text") from None
        self.needle = body.lower()

    def __call__(self, line: LogLine) -> bool:
        q = self.query
        if q.deployment is not None and line.deployment != q.deployment:
            return False
        if q.instance is not None and line.instance != q.instance:
            return False
        if line.level.rank < self.rank:
            return False
        if self.regex is not None:
            found = self.regex.search(line.text) is not None
        else:
            found = self.needle in line.text.lower()
        return found != self.inverse
