"""The meter's crash journal: billable calls counted in a shared file mapping that outlives a
``kill -9``, checked against what the meter wrote when the next run starts."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mcp_console.backend.db.models_metering import UsageJournal as JournalRow

logger = logging.getLogger(__name__)

JOURNAL_FILE = "usage-journal"
_MAGIC = b"MCUSAGE2"
_EPOCH_BYTES = 16
_HEADER = struct.Struct(f"<8s{_EPOCH_BYTES}s")
# The counters, in 64-bit words after the header: every billable call the meter counted
# (and how many of them failed), those it discarded on purpose (calls of a deployment or
# user deleted before the write, usage a durable write could not store and refused), and
# the durable calls waiting on their write (their replies are not out yet: not served).
COUNTED, COUNTED_ERRORS, DISCARDED, DISCARDED_ERRORS, WAITING, WAITING_ERRORS = range(6)
_WORDS = 6
_SIZE = _HEADER.size + 8 * _WORDS  # word-aligned; one page of the cache holds it
_TABLE = cast(Table, JournalRow.__table__)
# Built once: each flush adds what it wrote (building the statement costs more than running it).
_ADD_WRITTEN = (
    update(_TABLE)
    .where(_TABLE.c.epoch == bindparam("run"))
    .values(
        written_requests=_TABLE.c.written_requests + bindparam("requests"),
        written_errors=_TABLE.c.written_errors + bindparam("errors"),
    )
)


@dataclass(frozen=True, slots=True)
class JournalLoss:
    """Billable calls a run of the meter served and never wrote (it was killed first).

    Attributes:
        epoch: The run's journal id (the ``usage_journals`` row).
        started_at: When that run started counting.
        lost_requests: Calls counted as served and not in the usage tables.
        lost_errors: How many of those had failed (they would have cost nothing).
        recovered_at: When the next run found the loss.
    """

    epoch: str
    started_at: datetime | None
    lost_requests: int
    lost_errors: int
    recovered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Found:
    epoch: str
    counters: tuple[int, ...]


class UsageJournal:
    """A run's counters in ``<data_dir>/usage-journal``, mapped shared into memory.

    A store into a shared file mapping is in the kernel's page cache at once, so the
    counts survive the process being killed (not the machine going down: the durable
    setting covers that). The request path adds to ``counts`` (a ``memoryview`` of 64-bit
    words): tens of nanoseconds, no system call. Each flush adds what it wrote to the
    run's ``usage_journals`` row in the same transaction as the usage, so the next run
    knows exactly what was served and never written: counted - discarded - written (less
    the durable calls still waiting on their write: their replies never went out).

    Use ``open_journal()``: it recovers the previous run's file and starts a new run.
    """

    def __init__(self, path: Path, fd: int, mapping: mmap.mmap, epoch: str) -> None:
        self.path = path
        self.epoch = epoch
        self._fd = fd
        self._mapping = mapping
        self.counts = memoryview(mapping)[_HEADER.size : _HEADER.size + 8 * _WORDS].cast("Q")

    def discard(self, requests: int, errors: int) -> None:
        """Note counted calls that were dropped on purpose (not lost)."""
        counts = self.counts
        counts[DISCARDED] += requests
        counts[DISCARDED_ERRORS] += errors

    async def written(self, conn: AsyncConnection, requests: int, errors: int) -> None:
        """Add calls written to the run's row, in ``conn``'s transaction (the usage's)."""
        params = {"run": self.epoch, "requests": requests, "errors": errors}
        await conn.execute(_ADD_WRITTEN, params)

    def close(self) -> None:
        """Unmap and unlock the file (it stays: the next run reads it)."""
        self.counts.release()
        self._mapping.close()
        os.close(self._fd)


async def open_journal(
    engine: AsyncEngine, path: Path
) -> tuple[UsageJournal | None, JournalLoss | None]:
    """Recover the journal at ``path`` left by the previous run, then start this run's.

    What the previous run counted and never wrote (nor discarded) is recorded as its loss
    in ``usage_journals`` (once: a journal already recovered is not reported again), then
    the file is reset in place to a new run with its own row.

    Returns:
        The new run's journal (``None`` when another process holds the file, or it cannot
        be made: metering goes on without one) and the previous run's loss, if any.
    """
    try:
        opened = await asyncio.to_thread(_lock_and_read, path)
    except OSError as exc:
        logger.warning("metering: no crash journal at %s: %s", path, exc.strerror or exc)
        return None, None
    if opened is None:
        logger.warning("metering: another process holds %s; running without a crash journal", path)
        return None, None
    fd, found = opened
    try:
        loss = await _recover(engine, found) if found is not None else None
        epoch = secrets.token_hex(_EPOCH_BYTES)
        mapping = await asyncio.to_thread(_reset, fd, epoch)
        async with engine.begin() as conn:
            await conn.execute(
                insert(_TABLE).values(
                    epoch=epoch,
                    started_at=datetime.now(UTC),
                    written_requests=0,
                    written_errors=0,
                    lost_requests=0,
                    lost_errors=0,
                )
            )
    except BaseException:
        os.close(fd)
        raise
    return UsageJournal(path, fd, mapping, epoch), loss


def _lock_and_read(path: Path) -> tuple[int, _Found | None] | None:
    """The file, locked for this process, and what a previous run left in it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    data = os.pread(fd, _SIZE, 0)
    if len(data) < _SIZE:
        return fd, None
    magic, epoch = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        logger.warning("metering: %s is not a usage journal; starting a new one", path)
        return fd, None
    counters = struct.unpack_from(f"<{_WORDS}Q", data, _HEADER.size)
    return fd, _Found(epoch.hex(), counters)


def _reset(fd: int, epoch: str) -> mmap.mmap:
    """Zero the counters, then write the new run's id (a kill between the two leaves the
    old, already recovered run with nothing counted: nothing is reported twice)."""
    os.ftruncate(fd, _SIZE)
    os.pwrite(fd, bytes(8 * _WORDS), _HEADER.size)
    os.pwrite(fd, _HEADER.pack(_MAGIC, bytes.fromhex(epoch)), 0)
    return mmap.mmap(fd, _SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)


async def _recover(engine: AsyncEngine, found: _Found) -> JournalLoss | None:
    """Record what the run of ``found`` lost (``None``: nothing, or reported already)."""
    counters = found.counters
    async with engine.begin() as conn:
        row = (
            await conn.execute(select(_TABLE).where(_TABLE.c.epoch == found.epoch))
        ).one_or_none()
        if row is not None and row.recovered_at is not None:
            return None
        written = (row.written_requests, row.written_errors) if row is not None else (0, 0)
        unserved = counters[DISCARDED] + counters[WAITING]
        lost = max(0, counters[COUNTED] - unserved - written[0])
        lost_errors = min(
            lost,
            max(
                0,
                counters[COUNTED_ERRORS]
                - counters[DISCARDED_ERRORS]
                - counters[WAITING_ERRORS]
                - written[1],
            ),
        )
        now = datetime.now(UTC)
        values = {"recovered_at": now, "lost_requests": lost, "lost_errors": lost_errors}
        if row is None:
            await conn.execute(
                insert(_TABLE).values(
                    epoch=found.epoch,
                    started_at=now,
                    written_requests=0,
                    written_errors=0,
                    **values,
                )
            )
        else:
            await conn.execute(update(_TABLE).where(_TABLE.c.epoch == found.epoch).values(**values))
    if not lost:
        return None
    return JournalLoss(
        epoch=found.epoch,
        started_at=row.started_at if row is not None else None,
        lost_requests=lost,
        lost_errors=lost_errors,
        recovered_at=now,
    )


def journal_counts(path: Path) -> tuple[int, ...] | None:
    """The counters in the journal file at ``path`` as they stand (``None``: no journal);
    a reader in another process sees every store at once, through the page cache."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < _SIZE or data[: len(_MAGIC)] != _MAGIC:
        return None
    return struct.unpack_from(f"<{_WORDS}Q", data, _HEADER.size)
