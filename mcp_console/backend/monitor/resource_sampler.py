"""CPU and memory of running instances: the Docker engine's statistics, /proc for processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_console.backend.deploy.driver_registry import Drivers
from mcp_console.backend.deploy.plan import DOCKER, PROCESS
from mcp_console.schemas.errors import ConsoleError

MIB = 1024 * 1024
# An instance seen for the first time is read twice this far apart, so its first figures
# already say how busy it is rather than nothing.
PRIME_SECONDS = 0.5
# Readings closer together than this say little: the last figure stands instead.
MIN_GAP_SECONDS = 0.2
# Baselines of instances nobody asked about for this long are dropped.
STALE_SECONDS = 300.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

Target = tuple[str, str]  # (driver, ref)


@dataclass(frozen=True, slots=True)
class ResourceUse:
    """The CPU and memory one instance uses now; ``None`` where the runtime cannot tell."""

    cpu_percent: float | None
    memory_mb: float | None


UNKNOWN = ResourceUse(None, None)


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample: CPU seconds used so far, on a clock of seconds, and memory in use.

    Attributes:
        cpu_s: CPU time the instance has used (all its cores together).
        at_s: When, in seconds of a clock that only moves forward (per driver).
        memory_mb: Resident memory in MiB, or ``None``.
    """

    cpu_s: float
    at_s: float
    memory_mb: float | None


def docker_reading(stats: Mapping[str, Any]) -> Reading | None:
    """A reading from one ``one_shot`` answer of the engine's stats API (``None`` when the
    container is not running)."""
    cpu = stats.get("cpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    system = cpu.get("system_cpu_usage")
    cores = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ())
    if total is None or not system or not cores:
        return None
    memory = stats.get("memory_stats") or {}
    used = memory.get("usage")
    memory_mb = None
    if used is not None:
        # As `docker stats` counts: page cache that can be dropped is not the instance's.
        extra = memory.get("stats") or {}
        inactive = extra.get("total_inactive_file", extra.get("inactive_file", 0))
        memory_mb = (used - inactive if inactive < used else used) / MIB
    # The engine's system time runs on every core at once: per core it is wall time.
    return Reading(cpu_s=total / 1e9, at_s=system / 1e9 / cores, memory_mb=memory_mb)


def process_reading(pid: int) -> Reading | None:
    """A reading of a process and its descendants from /proc (``None`` once it is gone)."""
    ticks = pages = 0
    found = False
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
            statm = Path(f"/proc/{member}/statm").read_text()
        except OSError:
            continue  # it ended while being read
        # Fields after the command name, which may itself hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        pages += int(statm.split()[1])  # resident
        found = found or member == pid
    if not found:
        return None
    return Reading(
        cpu_s=ticks / _CLOCK_TICKS, at_s=time.monotonic(), memory_mb=pages * _PAGE_SIZE / MIB
    )


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, queue = [], [pid]
    while queue:
        member = queue.pop()
        found.append(member)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{member}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
    return found


class ResourceSampler:
    """Turns successive readings of each instance into CPU % (of one core) and memory.

    CPU % is the CPU time used between two readings over the time between them, so the
    first reading of an instance only sets a baseline; ``sample`` then reads once more
    ``PRIME_SECONDS`` later. Engine calls and /proc reads run in threads.

    Args:
        drivers: the backend's drivers (the process manager knows its pids; the Docker
            engine answers for containers).
        clock: monotonic seconds (to age baselines out).
    """

    def __init__(self, drivers: Drivers, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._drivers = drivers
        self._clock = clock
        self._baseline: dict[Target, tuple[Reading, float]] = {}
        self._percent: dict[Target, float] = {}

    async def sample(self, targets: Sequence[Target]) -> dict[Target, ResourceUse]:
        """What each target uses now (``UNKNOWN`` where it cannot be read)."""
        self._forget_stale()
        readings = await self._read(targets)
        fresh = {t: r for t, r in readings.items() if r is not None and t not in self._baseline}
        if fresh:
            now = self._clock()
            self._baseline.update((t, (r, now)) for t, r in fresh.items())
            await asyncio.sleep(PRIME_SECONDS)
            readings.update(await self._read(fresh))
        return {t: self._use(t, readings.get(t)) for t in targets}

    def _use(self, target: Target, reading: Reading | None) -> ResourceUse:
        if reading is None:
            self._baseline.pop(target, None)
            self._percent.pop(target, None)
            return UNKNOWN
        previous = self._baseline.get(target)
        now = self._clock()
        if previous is None or reading.cpu_s < previous[0].cpu_s:
            # A new container or process under the same name: start again.
            self._baseline[target] = (reading, now)
            self._percent.pop(target, None)
            return ResourceUse(None, reading.memory_mb)
        gap = reading.at_s - previous[0].at_s
        if gap >= MIN_GAP_SECONDS:
            self._percent[target] = max(0.0, (reading.cpu_s - previous[0].cpu_s) / gap * 100)
            self._baseline[target] = (reading, now)
        else:
            self._baseline[target] = (previous[0], now)
        return ResourceUse(self._percent.get(target), reading.memory_mb)

    def _forget_stale(self) -> None:
        horizon = self._clock() - STALE_SECONDS
        for target in [t for t, (_, seen) in self._baseline.items() if seen < horizon]:
            del self._baseline[target]
            self._percent.pop(target, None)

    async def _read(self, targets: Iterable[Target]) -> dict[Target, Reading | None]:
        wanted = list(targets)
        found = await asyncio.gather(*(self._read_one(*t) for t in wanted))
        return dict(zip(wanted, found, strict=True))

    async def _read_one(self, driver: str, ref: str) -> Reading | None:
        if driver == PROCESS:
            pid = self._drivers.process.pid(ref)
            return await asyncio.to_thread(process_reading, pid) if pid is not None else None
        if driver == DOCKER:
            try:
                await self._drivers.docker()
                engine = self._drivers.engine
                client = await engine.client()
                stats = await engine.call(client.api.stats, ref, stream=False, one_shot=True)
            except ConsoleError:
                return None
            return docker_reading(stats) if isinstance(stats, Mapping) else None
        return None
