"""Running an AsyncConsole from blocking code: its own event loop on a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from mcp_console.sdk.async_console import AsyncConsole

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound=Callable[..., Any])


class Bridged(Protocol):
    """What a blocking method runs on: an AsyncConsole and the loop thread that owns it."""

    @property
    def aconsole(self) -> AsyncConsole:
        """The async console every call goes to."""
        ...

    @property
    def loop(self) -> LoopThread:
        """The loop it runs on."""
        ...


class LoopThread:
    """An event loop running forever on a daemon thread, and a way to wait for its work."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="mcp-console-sdk", daemon=True
        )
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the loop and wait for its result (or its error)."""
        if self.loop.is_closed():
            work.close()
            raise RuntimeError("the console is closed")
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        """The items of an async iterator, each fetched on the loop."""
        try:
            while True:
                try:
                    yield self.run(_next(items))
                except StopAsyncIteration:
                    return
        finally:
            close = getattr(items, "aclose", None)
            if close is not None and not self.loop.is_closed():
                self.run(close())

    def stop(self) -> None:
        """Stop the loop and wait for its thread."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()


async def _next(items: AsyncIterator[T]) -> T:
    return await anext(items)


def blocking(
    method: Callable[Concatenate[AsyncConsole, P], Awaitable[T]],
) -> Callable[Concatenate[Bridged, P], T]:
    """``method`` of AsyncConsole as a blocking method: same arguments, docs and errors."""

    async def awaited(awaitable: Awaitable[T]) -> T:
        return await awaitable

    @functools.wraps(method)
    def call(self: Bridged, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.loop.run(awaited(method(self.aconsole, *args, **kwargs)))

    return _documented(call, method)


def blocking_iter(
    method: Callable[Concatenate[AsyncConsole, P], AsyncIterator[T]],
) -> Callable[Concatenate[Bridged, P], Iterator[T]]:
    """``method`` of AsyncConsole, an async iterator, as a plain iterator."""

    @functools.wraps(method)
    def call(self: Bridged, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self.loop.iterate(method(self.aconsole, *args, **kwargs))

    return _documented(call, method)


def _documented(call: C, method: Callable[..., Any]) -> C:
    """``call`` with ``method``'s docstring, inherited ones too (the client protocol's)."""
    call.__doc__ = inspect.getdoc(method)
    return call


@contextlib.contextmanager
def blocking_stream(
    loop: LoopThread, stream: contextlib.AbstractAsyncContextManager[AsyncIterator[T]]
) -> Iterator[Iterator[T]]:
    """An async context manager of a live stream, entered and left on the loop."""
    items = loop.run(_enter(stream))
    try:
        yield loop.iterate(items)
    except BaseException as error:
        if not loop.run(stream.__aexit__(type(error), error, error.__traceback__)):
            raise
    else:
        loop.run(stream.__aexit__(None, None, None))


async def _enter(stream: contextlib.AbstractAsyncContextManager[T]) -> T:
    return await stream.__aenter__()
