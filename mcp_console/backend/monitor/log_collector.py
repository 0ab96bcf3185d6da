"""Collects instances' output lines and the gateway's access log into the log store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import ServiceDeployment, User
from mcp_console.backend.deploy.secretstore import DeploymentSecrets, redact
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.monitor.log_levels import level_of
from mcp_console.backend.monitor.log_store import FILE_NAME, LogStore, StoredLine
from mcp_console.schemas.logs import LogStream
from mcp_console.settings import MonitorSettings, Settings

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
# Beyond this many lines waiting (a store that cannot keep up), the oldest are dropped
# and the drop is written down instead: memory stays bounded.
MAX_PENDING = 200_000
# (at, deployment uid, instance, stream, text)
_Output = tuple[float, str, str, str, str]


class LogCollector:
    """The ``LogSink`` the drivers write to and a ``Meter`` tap of the gateway.

    Both take a line on the event loop in O(1) and return; every ``FLUSH_SECONDS`` a
    batch is resolved (deployment uids to ids, user ids to names), masked with the
    deployment's secret values and levelled on the loop, then written by the one
    writer thread in one transaction. What is still waiting is written on ``aclose``.

    Args:
        store: the open log store (closed by ``aclose``).
        sessions: the main database, to resolve deployments and users.
        secrets: the deployments' secret values, masked before anything is stored.
    """

    def __init__(
        self,
        store: LogStore,
        sessions: async_sessionmaker[AsyncSession],
        secrets: DeploymentSecrets,
    ) -> None:
        self.store = store
        self._sessions = sessions
        self._secrets = secrets
        self._output: deque[_Output] = deque()
        self._access: deque[RequestRecord] = deque()
        self._dropped = 0
        self._uids: dict[str, int] = {}
        self._users: dict[int, str] = {}
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="log-writer")
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def start(self) -> None:
        """Flush every ``FLUSH_SECONDS`` until ``aclose``."""
        self._task = asyncio.create_task(self._run())

    # -- taking lines (event loop, O(1)) --------------------------------------------------

    def write(self, deployment_uid: str, instance: str, stream: str, text: str) -> None:
        """Take one line an instance wrote (the ``LogSink`` of the drivers)."""
        self._output.append((time.time(), deployment_uid, instance, stream, text))
        if len(self._output) > MAX_PENDING:
            self._output.popleft()
            self._dropped += 1

    def record(self, record: RequestRecord) -> None:
        """Take one finished gateway request (formatted when flushed, off the request path)."""
        self._access.append(record)
        if len(self._access) > MAX_PENDING:
            self._access.popleft()
            self._dropped += 1

    def inflight_changed(self, deployment_id: int, instance_id: str, delta: int) -> None:
        """Not logged: a request is one access line once it has finished."""

    # -- writing --------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write everything taken so far; returns how many lines were written."""
        async with self._flush_lock:
            output, self._output = self._output, deque()
            access, self._access = self._access, deque()
            if not output and not access:
                return 0
            batch = _Batch(output, access, await self._masks(output, access))
            batch.uids, batch.users = dict(self._uids), dict(self._users)
            if self._dropped:
                logger.warning("the log store fell behind: %d lines were dropped", self._dropped)
                self._dropped = 0
            # Masking, levels and formatting run on the writer thread too: a burst of
            # lines must not hold up the loop (a console may be drawing on it).
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writer, self._write, batch)

    def _write(self, batch: _Batch) -> int:
        lines = batch.lines()
        if lines:
            self.store.append(lines)
        return len(lines)

    async def purge(self, keep: MonitorSettings) -> int:
        """Delete lines older than ``keep.log_retention``, then the oldest lines beyond
        ``keep.log_max_bytes``; returns how many went."""
        loop = asyncio.get_running_loop()
        cutoff = time.time() - keep.log_retention.total_seconds()
        old = await loop.run_in_executor(self._writer, self.store.delete_before, cutoff)
        big = await loop.run_in_executor(self._writer, self.store.delete_over, keep.log_max_bytes)
        return int(old) + int(big)

    async def aclose(self) -> None:
        """Stop flushing, write what is left, close the store."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            logger.exception("could not write the last log lines")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self.store.close)
        self._writer.shutdown(wait=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                # A database hiccup must not end collection; the next batch tries again.
                logger.exception("could not write log lines")

    async def _masks(
        self, output: deque[_Output], access: deque[RequestRecord]
    ) -> dict[int, tuple[str, ...]]:
        """The secret values to mask, by deployment id, for the batch's deployments."""
        await self._learn({uid for _, uid, _, _, _ in output}, {r.user_id for r in access})
        batch = {self._uids[x[1]] for x in output if x[1] in self._uids}
        masks: dict[int, tuple[str, ...]] = {}
        async with self._sessions() as session:
            for deployment_id in batch | {r.deployment_id for r in access}:
                masks[deployment_id] = await self._secrets.known(session, deployment_id)
        return masks

    async def _learn(self, uids: set[str], user_ids: set[int | None]) -> None:
        """Look up the deployment uids and user ids not seen before (one query each)."""
        new_uids = uids - self._uids.keys()
        new_users = {u for u in user_ids if u is not None and u not in self._users}
        if not new_uids and not new_users:
            return
        async with self._sessions() as session:
            if new_uids:
                found = await session.execute(
                    select(ServiceDeployment.uid, ServiceDeployment.id).where(
                        ServiceDeployment.uid.in_(new_uids)
                    )
                )
                self._uids.update((uid, deployment_id) for uid, deployment_id in found)
            if new_users:
                names = await session.execute(
                    select(User.id, User.name).where(User.id.in_(new_users))
                )
                self._users.update((user_id, name) for user_id, name in names)


async def open_log_collector(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    secrets: DeploymentSecrets,
) -> LogCollector:
    """The collector of the store in the data dir (``logs.db``), opened and flushing."""
    store = LogStore(settings.data_dir / FILE_NAME)
    await asyncio.to_thread(store.open)
    collector = LogCollector(store, sessions, secrets)
    collector.start()
    return collector


@dataclass
class _Batch:
    """What one flush writes, with all it needs to become stored lines off the loop."""

    output: deque[_Output]
    access: deque[RequestRecord]
    masks: dict[int, tuple[str, ...]]
    uids: dict[str, int] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)

    def lines(self) -> list[StoredLine]:
        """The stored lines, masked and levelled, in time order (the store's ids grow with
        time: its time ranges rely on it)."""
        lines: list[StoredLine] = []
        for at, uid, instance, stream, text in self.output:
            found = self.uids.get(uid)
            if found is None:
                continue  # a deployment deleted meanwhile (or another console's)
            text = redact(text, self.masks[found])
            level = level_of(stream, text).rank
            lines.append(StoredLine(at, found, instance, stream, level, text))
        for record in self.access:
            text = redact(access_text(record, self.users), self.masks[record.deployment_id])
            level = level_of(LogStream.ACCESS, text, record.status).rank
            instance = record.instance_id or ""
            lines.append(
                StoredLine(record.at, record.deployment_id, instance, LogStream.ACCESS, level, text)
            )
        lines.sort(key=lambda line: line.at)
        return lines


def access_text(record: RequestRecord, users: dict[int, str]) -> str:
    """One access line: ``tools/call tool=echo status=200 latency_ms=3.1 in=120 out=456
    user=alice session=3f2a…`` (``-`` where the gateway knows no user, tool or session)."""
    user = users.get(record.user_id, "-") if record.user_id is not None else "-"
    raw = record.session_id
    session = raw.decode("ascii", "replace") if raw else "-"
    return (
        f"{record.method or '-'} tool={record.tool_name or '-'} status={record.status} "
        f"latency_ms={record.latency_ms:.1f} in={record.bytes_in} out={record.bytes_out} "
        f"user={user} session={session}"
    )
