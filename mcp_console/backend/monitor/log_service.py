"""LogService: searches and follows the log store, only where the reader may read logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.deploy.deployment_record import address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.deploy.service import DeploymentService
from mcp_console.backend.monitor.log_search import LogFilter, parse_text
from mcp_console.backend.monitor.log_store import LogStore, Row
from mcp_console.durations import EXAMPLES, read_duration
from mcp_console.schemas.deploy import allowed
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.logs import LogLevel, LogLine, LogQuery, LogStream, level_of_rank
from mcp_console.schemas.users import Principal

# How often a follower looks for new lines, and how many it takes at once.
FOLLOW_SECONDS = 0.5
FOLLOW_BATCH = 1000
_LEVELS = ", ".join(level.value for level in LogLevel)


class LogService:
    """Reads the log store for people: who may read what, and the query's grammar.

    A reader sees the lines of the deployments whose logs they may read (``logs`` in
    ``schemas.deploy.VERBS``: operators, owners and admins), decided as every other read
    of a deployment decides it.

    Args:
        sessions: the main database (deployments and their shares).
        store: the log store.
        deployments: lists the deployments a reader may see.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: LogStore,
        deployments: DeploymentService,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._deployments = deployments

    async def search(self, actor: Principal, query: LogQuery) -> list[LogLine]:
        """The newest lines matching ``query``, newest first.

        Raises:
            NotFound: ``query.deployment`` names no deployment the actor may see.
            Forbidden: the actor sees it but may not read its logs.
            Invalid: a bad level, time, regex or instance; ``field`` names it.
        """
        names = await self._readable(actor, query.deployment)
        wanted = log_filter(query, tuple(names))
        # The lines are built on the thread too: a big page must not hold up the loop.
        return await asyncio.to_thread(self._lines, wanted, names)

    async def check(self, actor: Principal, query: LogQuery) -> None:
        """Refuse ``query`` as ``search`` would, without searching (before a stream starts).

        Raises:
            As ``search``.
        """
        log_filter(query, tuple(await self._readable(actor, query.deployment)))

    async def follow(self, actor: Principal, query: LogQuery) -> AsyncIterator[LogLine]:
        """The newest ``query.limit`` lines oldest first, then each new line as it is stored.

        Raises:
            As ``search``, before the first line.
        """
        async for page in self.pages(actor, query):
            for line in page:
                yield line

    async def pages(self, actor: Principal, query: LogQuery) -> AsyncIterator[list[LogLine]]:
        """``follow`` a page at a time: the first the newest lines, then one page per look
        for new lines every ``FOLLOW_SECONDS``, empty when there were none (a stream's
        moment to send a keep-alive or to notice that it should end)."""
        names = await self._readable(actor, query.deployment)
        wanted = log_filter(query, tuple(names))
        first = await asyncio.to_thread(self._lines, wanted, names)
        last = first[0].id if first else await asyncio.to_thread(self._newest_id)
        yield first[::-1]
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            page = LogFilter(
                wanted.deployment_ids,
                instance=wanted.instance,
                min_level=wanted.min_level,
                text=wanted.text,
                after_id=last,
                limit=FOLLOW_BATCH,
            )
            lines = await asyncio.to_thread(self._lines, page, names)
            if lines:
                last = lines[-1].id
            yield lines

    def _lines(self, wanted: LogFilter, names: dict[int, str]) -> list[LogLine]:
        return [_line(row, names) for row in self._store.search(wanted)]

    def _newest_id(self) -> int:
        conn = self._store.reader()
        try:
            return int(conn.execute("SELECT coalesce(max(id), 0) FROM lines").fetchone()[0])
        finally:
            conn.close()

    async def _readable(self, actor: Principal, name: str | None) -> dict[int, str]:
        """The deployments whose logs the actor may read, by id, named as they name them."""
        if name is not None:
            async with self._sessions() as session:
                state = await find(session, actor, name, "logs")
            return {state.id: address(actor, state)}
        views = await self._deployments.list_deployments(actor)
        return {view.id: view.address for view in views if allowed(view.access, "logs")}


def log_filter(query: LogQuery, deployment_ids: Sequence[int]) -> LogFilter:
    """The store's filter for ``query`` over ``deployment_ids`` (its grammar checked here).

    Raises:
        Invalid: an unknown level, a bad time or range, a bad regex.
    """
    level = 0
    if query.level is not None:
        try:
            level = LogLevel(query.level.lower()).rank
        except ValueError:
            raise Invalid(
                f"unknown log level {query.level!r}; use one of {_LEVELS}", field="level"
            ) from None
    since = moment(query.since, "since")
    until = moment(query.until, "until")
    if since is not None and until is not None and since > until:
        raise Invalid("since must be before until", field="since")
    return LogFilter(
        tuple(deployment_ids),
        instance=query.instance,
        min_level=level,
        since=since,
        until=until,
        text=parse_text(query.text) if query.text else None,
        limit=query.limit,
    )


def moment(text: str | None, field: str) -> float | None:
    """Epoch seconds of ``1h`` (that long ago) or an ISO 8601 time (UTC unless it says).

    Raises:
        Invalid: ``text`` is neither.
    """
    if text is None or not text.strip():
        return None
    duration = read_duration(text)
    if duration is not None:
        return (datetime.now(UTC) - duration).timestamp()
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"{field} {text!r} is neither a duration ({EXAMPLES}) nor an ISO 8601 time",
            field=field,
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _line(row: Row, names: dict[int, str]) -> LogLine:
    line_id, at, deployment_id, instance, stream, level, text = row
    return LogLine(
        id=line_id,
        at=datetime.fromtimestamp(at, UTC),
        deployment_id=deployment_id,
        deployment=names.get(deployment_id, str(deployment_id)),
        instance=instance,
        stream=LogStream(stream),
        level=level_of_rank(level),
        text=text,
    )
