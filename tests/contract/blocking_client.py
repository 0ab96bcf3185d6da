"""The blocking ``Console`` presented as the async ConsoleClient, so the contract runs over it:
each call waits in a worker thread, as an async program would call it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from mcp_console.sdk import Console

_DONE = object()


async def _items(items: Iterator[Any]) -> AsyncIterator[Any]:
    while (item := await asyncio.to_thread(next, items, _DONE)) is not _DONE:
        yield item


class _Stream:
    """A blocking stream's context manager as an async one."""

    def __init__(self, stream: AbstractContextManager[Iterator[Any]]) -> None:
        self._stream = stream

    async def __aenter__(self) -> AsyncIterator[Any]:
        return _items(await asyncio.to_thread(self._stream.__enter__))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await asyncio.to_thread(self._stream.__exit__, exc_type, exc, tb)


class BlockingAsAsync:
    """Every method of ``console`` as a coroutine (iterators and streams as async ones)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.console, name)
        if name == "events":
            return lambda: _Stream(method())
        if name in ("follow_logs", "iter_services", "iter_audit_events"):
            return lambda *args, **kwargs: _items(method(*args, **kwargs))

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return call
