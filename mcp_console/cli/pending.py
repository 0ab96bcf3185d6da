"""PendingClient: the console's client while its backend starts, answering once it can."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.errors import ConsoleError

# Every operation of the protocol, and whether it is a coroutine (``events`` is the one that
# is not: it opens a stream as an async context manager).
_OPERATIONS: dict[str, bool] = {
    name: inspect.iscoroutinefunction(member)
    for name, member in vars(ConsoleClient).items()
    if not name.startswith("_") and callable(member)
}

# What the console's first screen asks for: who is signed in, and the market's first page
# and its facets. A backend this console hosts answers them as soon as its catalog is up;
# every other call waits until the whole backend is.
FIRST_PAGE = "search_services"
FIRST_READS = frozenset({FIRST_PAGE, "whoami", "featured_services", "list_categories", "list_tags"})


class PendingClient:
    """A ConsoleClient whose calls wait until the backend behind it is ready.

    The console draws its first frame on it; the screens' first calls wait while the backend
    starts, later ones go straight to the real client. The first screen's reads
    (``FIRST_READS``) may be answered earlier, by a backend whose catalog is up. If the
    backend cannot start, every call raises why (``Unavailable`` unless it was another
    domain error).
    """

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self._reads: asyncio.Future[ConsoleClient] = loop.create_future()
        self._ready: asyncio.Future[ConsoleClient] = loop.create_future()
        self._waiting_reads = 0
        self._no_waiting_reads = asyncio.Event()
        self._no_waiting_reads.set()

    @property
    def ready(self) -> bool:
        """Whether a backend answers the calls now."""
        return _answers(self._ready)

    def resolve_reads(self, client: ConsoleClient) -> None:
        """Hand the first screen's reads to ``client`` (its catalog is up)."""
        if not self._reads.done():
            self._reads.set_result(client)

    def resolve(self, client: ConsoleClient) -> None:
        """Hand every waiting and later call to ``client``."""
        self.resolve_reads(client)
        if not self._ready.done():
            self._ready.set_result(client)

    def fail(self, error: ConsoleError) -> None:
        """Make every waiting and later call raise ``error``."""
        for future in (self._reads, self._ready):
            if not future.done():
                future.set_exception(error)

    async def client(self) -> ConsoleClient:
        """The real client, once there is one."""
        # Shielded: a cancelled caller (an exclusive worker replaced) must not cancel the
        # future every other caller waits on.
        return await asyncio.shield(self._ready)

    async def first_reads_answered(self) -> None:
        """Wait until the reads that waited for the backend have had their answers."""
        await self._no_waiting_reads.wait()

    def __getattr__(self, name: str) -> Any:
        if name not in _OPERATIONS:
            raise AttributeError(name)
        if self.ready:
            return getattr(self._ready.result(), name)
        first_read = name in FIRST_READS
        if first_read and _answers(self._reads):
            return getattr(self._reads.result(), name)
        if _OPERATIONS[name]:
            answering = self._reads if first_read else self._ready

            async def call(*args: Any, **kwargs: Any) -> Any:
                if first_read:
                    self._read_waits()
                try:
                    client = await asyncio.shield(answering)
                    if first_read and name != FIRST_PAGE:
                        # Woken together, the first page goes first: the others' queries
                        # are built while its query runs on the database's thread.
                        await asyncio.sleep(0)
                    return await getattr(client, name)(*args, **kwargs)
                finally:
                    if first_read:
                        self._read_answered()

            return call

        @asynccontextmanager
        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            client = await self.client()
            async with getattr(client, name)(*args, **kwargs) as opened:
                yield opened

        return stream

    def _read_waits(self) -> None:
        self._waiting_reads += 1
        self._no_waiting_reads.clear()

    def _read_answered(self) -> None:
        self._waiting_reads -= 1
        if not self._waiting_reads:
            self._no_waiting_reads.set()


def _answers(future: asyncio.Future[ConsoleClient]) -> bool:
    """Whether ``future`` holds a client (its failure, if any, counts as retrieved)."""
    return future.done() and future.exception() is None
