"""The async JSON-lines channel to a stdio MCP server and its stderr ring."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024


class ChannelClosed(ConnectionError):
    """The server's stdout ended or its stdin can no longer be written."""


# Told each complete line as it is kept: (stream, text), stream "stderr", "stdout" or
# "console" (a line mcp-console itself wrote). Called on the event loop; must not block.
LineHook = Callable[[str, str], None]


class StderrBuffer:
    """The last lines a server wrote to stderr, bounded in lines and in line length.

    Each stream fed keeps its own unterminated tail, so an HTTP server's stdout and stderr
    feeding one buffer do not splice into each other's lines.
    """

    def __init__(
        self, max_lines: int = 500, max_line_chars: int = 4000, *, on_line: LineHook | None = None
    ) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._partial: dict[str, bytearray] = {}
        self._max_line_chars = max_line_chars
        self._on_line = on_line

    def feed(self, data: bytes, stream: str = "stderr") -> None:
        """Add raw bytes of ``stream``; complete lines are kept, the rest waits for its newline."""
        partial = self._partial.setdefault(stream, bytearray())
        partial += data
        *complete, rest = partial.split(b"\n")
        for raw in complete:
            self._append(bytes(raw), stream)
        partial[:] = rest
        if len(partial) > self._max_line_chars * 4:
            self._append(bytes(partial), stream)
            partial.clear()

    def note(self, line: str) -> None:
        """Record a line written by mcp-console itself (marked so it is not mistaken)."""
        self._lines.append(f"[mcp-console] {line}"[: self._max_line_chars])
        if self._on_line is not None:
            self._on_line("console", line[: self._max_line_chars])

    def tail(self, count: int) -> list[str]:
        """The last ``count`` lines, including unterminated last lines."""
        lines = list(self._lines)
        lines.extend(self._decode(bytes(rest)) for rest in self._partial.values() if rest)
        return lines[-count:] if count > 0 else []

    def _append(self, raw: bytes, stream: str) -> None:
        line = self._decode(raw)
        self._lines.append(line)
        if self._on_line is not None:
            self._on_line(stream, line)

    def _decode(self, raw: bytes) -> str:
        return raw.decode("utf-8", "replace").rstrip("\r")[: self._max_line_chars]


class StdioChannel:
    """Newline-delimited JSON-RPC to one stdio server: write stdin, read stdout lines.

    One consumer reads at a time. Reading applies back-pressure: a server whose output is
    not consumed blocks on its stdout, as it would on a pipe.
    """

    def __init__(
        self, writer: asyncio.StreamWriter, stderr: StderrBuffer, *, queue_size: int = 256
    ) -> None:
        self._writer = writer
        self.stderr = stderr
        self._lines: asyncio.Queue[bytes | None] = asyncio.Queue(queue_size)
        self._buffer = bytearray()
        self._write_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._eof = False
        self._stdin_closed = False

    @property
    def at_eof(self) -> bool:
        """Whether the server's stdout has ended and every line has been read."""
        return self._eof and self._lines.empty()

    def run_reader(self, coro: Awaitable[None]) -> None:
        """Own the task that feeds this channel; it is cancelled by ``aclose``."""
        self._tasks.append(asyncio.ensure_future(coro))

    async def feed_stdout(self, data: bytes) -> None:
        """Add stdout bytes from the server, queueing each complete line."""
        self._buffer += data
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if line.strip():
                await self._lines.put(line)
        if len(self._buffer) > MAX_LINE_BYTES:
            self.stderr.note(f"dropped a stdout line longer than {MAX_LINE_BYTES} bytes")
            self._buffer.clear()

    async def feed_eof(self) -> None:
        """The server's stdout ended."""
        if self._eof:
            return
        if self._buffer.strip():
            await self._lines.put(bytes(self._buffer))
        self._buffer.clear()
        self._eof = True
        await self._lines.put(None)

    async def receive_line(self) -> bytes:
        """The next stdout line; raises ``ChannelClosed`` once stdout has ended."""
        if self.at_eof:
            raise ChannelClosed("the server's stdout has ended")
        line = await self._lines.get()
        if line is None:
            # Leave the marker for any later reader too.
            self._lines.put_nowait(None)
            raise ChannelClosed("the server's stdout has ended")
        return line

    async def receive(self) -> dict[str, Any]:
        """The next JSON-RPC message; lines that are not JSON objects go to the stderr log."""
        while True:
            line = await self.receive_line()
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if isinstance(message, dict):
                return message
            self.stderr.note(f"non-JSON line on stdout: {line[:200]!r}")

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            try:
                yield await self.receive()
            except ChannelClosed:
                return

    async def send(self, message: Mapping[str, Any]) -> None:
        """Write one JSON-RPC message as one line."""
        await self.send_line(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    async def send_line(self, line: str | bytes) -> None:
        """Write one line (a newline is added; embedded newlines are refused)."""
        data = line.encode() if isinstance(line, str) else line
        if b"\n" in data:
            raise ValueError("a stdio MCP message must not contain a newline")
        if self._stdin_closed:
            raise ChannelClosed("the server's stdin is closed")
        async with self._write_lock:
            try:
                self._writer.write(data + b"\n")
                await self._writer.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise ChannelClosed(f"cannot write to the server's stdin: {exc}") from exc

    async def close_stdin(self) -> None:
        """Half-close: the server sees end of input and should exit on its own."""
        if self._stdin_closed:
            return
        self._stdin_closed = True
        async with self._write_lock:
            with contextlib.suppress(OSError, RuntimeError):
                if self._writer.can_write_eof():
                    self._writer.write_eof()
                else:
                    self._writer.close()

    async def aclose(self) -> None:
        """Close both directions and stop the reader tasks."""
        await self.close_stdin()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._writer.close()
        with contextlib.suppress(OSError, RuntimeError, ConnectionError):
            await self._writer.wait_closed()
        if not self._eof:
            self._eof = True
            with contextlib.suppress(asyncio.QueueFull):
                self._lines.put_nowait(None)
