"""A lean keep-alive HTTP/1.1 client for the gateway's upstreams, streaming bodies."""

# Why not httpx: on this path httpx costs about 0.85 CPU-ms per request, twice the
# gateway's whole budget. Upstreams are mostly our own servers on 127.0.0.1 speaking plain
# HTTP/1.1 (uvicorn), so a small asyncio protocol with pooled connections does the job
# for a tenth of that: one write per request, body pieces handed over as they arrive.
# Remote deployments' servers speak HTTP/1.1 too, over TLS (asyncio's own SSL transport).

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_console.backend.gateway.httppool import UpstreamPool

MAX_HEAD_BYTES = 64 * 1024
# Past this much unread body the socket stops being read until the client catches up.
HIGH_WATER = 1024 * 1024

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _DONE = range(8)


class UpstreamError(ConnectionError):
    """The upstream could not be reached, or broke off before the response ended.

    Attributes:
        sent: whether the request may have reached the server (``False`` only when
            the connection was never established, so a retry elsewhere is safe).
        received: whether any response bytes had arrived.
    """

    def __init__(self, message: str, *, sent: bool, received: bool) -> None:
        super().__init__(message)
        self.sent = sent
        self.received = received


class UpstreamConnection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, the response read piece by piece."""

    def __init__(self, pool: UpstreamPool, key: tuple[str, int, bool]) -> None:
        self._pool = pool
        self.key = key
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._state = _DONE
        self._head_buf = b""
        self._chunk_buf = b""
        self._remaining = 0
        self._pieces: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._received = False
        self._error: UpstreamError | None = None
        self._head_waiter: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._keep_alive = True
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._received = True
        if self._state == _HEAD:
            data = self._head_buf + data if self._head_buf else data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > MAX_HEAD_BYTES:
                    self._fail("the upstream sent an oversized response head")
                else:
                    self._head_buf = data
                return
            self._head_buf = b""
            rest = data[end + 4 :]
            parsed = self._parse_head(data[:end])
            if parsed < 0:
                return
            if parsed == 0:
                if rest:
                    self.data_received(rest)  # an informational (1xx) head: the real one follows
                return
            waiter = self._head_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            if not rest and self._state != _DONE:
                return
            data = rest
        if self._state == _LENGTH:
            self._feed_length(data)
        elif self._state == _UNTIL_CLOSE:
            self._push(data)
        elif self._state in (_CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER):
            self._feed_chunked(data)
        elif self._state == _DONE and data:
            # Bytes after the response ended: the connection cannot be trusted again.
            self._keep_alive = False
        self._wake()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool.forget(self)
        if self._state == _UNTIL_CLOSE:
            self._state = _DONE
        elif self._state != _DONE and self._error is None:
            self._error = UpstreamError(
                "the upstream closed the connection"
                + (" mid-response" if self._received else " without responding"),
                sent=True,
                received=self._received,
            )
            waiter = self._head_waiter
            if waiter is not None and not waiter.done():
                waiter.set_exception(self._error)
        self._wake()

    def pause_writing(self) -> None:  # request bodies are small; buffer them
        pass

    def resume_writing(self) -> None:
        pass

    # --- request side -----------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        """Write a whole request and wait for the response head (status and headers)."""
        transport = self._transport
        if transport is None or self.closed:
            raise UpstreamError("the upstream connection is closed", sent=False, received=False)
        self._state = _HEAD
        self._received = False
        self._error = None
        self._keep_alive = True
        self._pieces.clear()
        self._buffered = 0
        waiter = self._head_waiter = self._loop.create_future()
        transport.write(data)
        try:
            await waiter
        finally:
            self._head_waiter = None

    async def read(self) -> bytes:
        """The next piece of the body as it arrived; ``b""`` once the body has ended.

        Raises:
            UpstreamError: the connection broke before the body ended.
        """
        while True:
            pieces = self._pieces
            if pieces:
                piece = pieces.popleft() if len(pieces) == 1 else b"".join(pieces)
                pieces.clear()
                self._buffered = 0
                if self._paused and self._transport is not None:
                    self._paused = False
                    self._transport.resume_reading()
                return piece
            if self._state == _DONE:
                return b""
            if self._error is not None:
                raise self._error
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    async def read_all(self, limit: int) -> bytes:
        """The whole remaining body (at most ``limit`` bytes, else ``UpstreamError``)."""
        parts: list[bytes] = []
        size = 0
        while piece := await self.read():
            size += len(piece)
            if size > limit:
                self.abort()
                raise UpstreamError("the upstream response is too large", sent=True, received=True)
            parts.append(piece)
        return b"".join(parts)

    @property
    def reusable(self) -> bool:
        """Whether an idle connection may carry another request."""
        return self._keep_alive and not self.closed and self._state == _DONE

    @property
    def complete(self) -> bool:
        """Whether the whole response has been read."""
        return self._state == _DONE and not self._pieces

    def release(self) -> None:
        """Hand the connection back for reuse when the response is complete, else close it."""
        if self.complete and self._keep_alive and not self.closed:
            self._pool.put_idle(self)
        else:
            self.abort()

    def abort(self) -> None:
        """Drop the connection now (the server sees the client go away)."""
        self._keep_alive = False
        if self._transport is not None and not self.closed:
            self._transport.abort()

    # --- parsing ----------------------------------------------------------------------

    def _parse_head(self, head: bytes) -> int:
        """1: a final head was parsed; 0: an informational one (skip it); -1: garbage."""
        lines = head.split(b"\r\n")
        status_line = lines[0]
        try:
            version, code = status_line.split(b" ", 2)[:2]
            status = int(code)
        except ValueError:
            self._fail("the upstream sent a malformed status line")
            return -1
        if 100 <= status < 200:
            return 0
        headers: list[tuple[bytes, bytes]] = []
        length = -1
        chunked = False
        connection = b""
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                length = int(value) if value.isdigit() else -1
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                connection = value.lower()
            headers.append((name, value))
        self.status = status
        self.headers = headers
        if version == b"HTTP/1.0":
            self._keep_alive = b"keep-alive" in connection
        else:
            self._keep_alive = b"close" not in connection
        if status in (204, 304):
            self._state = _DONE
        elif chunked:
            self._state = _CHUNK_SIZE
            self._chunk_buf = b""
        elif length >= 0:
            self._remaining = length
            self._state = _LENGTH if length else _DONE
        else:
            self._state = _UNTIL_CLOSE
            self._keep_alive = False
        return 1

    def _feed_length(self, data: bytes) -> None:
        if not data:
            return
        take = self._remaining
        if len(data) > take:
            self._keep_alive = False
            data = data[:take]
        self._remaining -= len(data)
        self._push(data)
        if self._remaining == 0:
            self._state = _DONE

    def _feed_chunked(self, data: bytes) -> None:
        buf = self._chunk_buf + data if self._chunk_buf else data
        pos = 0
        end = len(buf)
        out: list[bytes] = []
        state = self._state
        while pos < end:
            if state == _CHUNK_SIZE:
                nl = buf.find(b"\r\n", pos)
                if nl < 0:
                    break
                try:
                    size = int(buf[pos:nl].split(b";", 1)[0], 16)
                except ValueError:
                    self._fail("the upstream sent a malformed chunk")
                    return
                pos = nl + 2
                if size == 0:
                    state = _TRAILER
                else:
                    self._remaining = size
                    state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self._remaining, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    state = _CHUNK_END
            elif state == _CHUNK_END:
                if end - pos < 2:
                    break
                pos += 2
                state = _CHUNK_SIZE
            else:  # trailers, ended by an empty line
                nl = buf.find(b"\r\n", pos)
                if nl < 0:
                    break
                if nl == pos:
                    pos += 2
                    state = _DONE
                    if pos < end:
                        self._keep_alive = False
                    break
                pos = nl + 2
        self._state = state
        self._chunk_buf = buf[pos:] if pos < end and state != _DONE else b""
        if out:
            self._push(out[0] if len(out) == 1 else b"".join(out))

    def _push(self, piece: bytes) -> None:
        if not piece:
            return
        self._pieces.append(piece)
        self._buffered += len(piece)
        if self._buffered > HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, message: str) -> None:
        self._error = UpstreamError(message, sent=True, received=True)
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(self._error)
        self._state = _HEAD  # never reusable
        self.abort()
        self._wake()
