"""Follows an HTTP container's stdout and stderr into a line hook, on a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from mcp_console.backend.deploy.drivers.engine import Engine
from mcp_console.backend.stdio.channel import LineHook, StderrBuffer

logger = logging.getLogger(__name__)


class ContainerOutput:
    """The output of HTTP containers, as it is written, for as long as they run.

    stdio containers' stderr comes through their attachment; an HTTP container's output
    would otherwise be read only from the engine's log when asked. Attached before the
    container starts (so its first lines are not missed) with stdout and stderr kept
    apart, each container is read by one thread, which ends when the container stops or
    the manager closes. Lines are handed to the hook on the event loop.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._closed = threading.Event()
        # The containers being read now: one adopted twice is still read once.
        self._reading: set[str] = set()

    async def attach(self, container: str, hook: LineHook) -> None:
        """Start reading ``container`` (its id or name): before it starts, to miss nothing,
        or while it runs (one adopted after a restart), from that moment on."""
        if container in self._reading:
            return
        self._reading.add(container)
        try:
            await self._start(container, hook)
        except BaseException:
            self._reading.discard(container)
            raise

    async def _start(self, container_id: str, hook: LineHook) -> None:
        client = await self._engine.client()
        stream: Iterator[tuple[bytes | None, bytes | None]] = await self._engine.call(
            client.api.attach, container_id, stdout=True, stderr=True, stream=True, demux=True
        )
        loop = asyncio.get_running_loop()
        thread = threading.Thread(
            target=self._read,
            args=(container_id, stream, loop, hook),
            name=f"container-output-{container_id[:12]}",
            daemon=True,
        )
        thread.start()

    def close(self) -> None:
        """Stop handing lines over (each thread ends at its next chunk or with its container)."""
        self._closed.set()

    def _read(
        self,
        name: str,
        stream: Iterator[tuple[bytes | None, bytes | None]],
        loop: asyncio.AbstractEventLoop,
        hook: LineHook,
    ) -> None:
        def hand_over(name: str, line: str) -> None:
            loop.call_soon_threadsafe(hook, name, line)

        # Only the line splitting of the buffer is used here; it keeps a few lines at most.
        lines = StderrBuffer(max_lines=1, on_line=hand_over)
        try:
            for out, err in stream:
                if self._closed.is_set():
                    break
                if out:
                    lines.feed(out, "stdout")
                if err:
                    lines.feed(err, "stderr")
        except RuntimeError:
            pass  # the loop has closed: nobody is listening any more
        except Exception as exc:  # the engine went away; the container's own log keeps it
            logger.debug("stopped reading a container's output: %s", exc)
        finally:
            _close(stream)
            self._reading.discard(name)


def _close(stream: Any) -> None:
    with contextlib.suppress(Exception):
        stream.close()
