"""The gateway's upstream HTTP client against a raw TCP server sending exactly what we say."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from mcp_console.backend.gateway.httpclient import UpstreamError
from mcp_console.backend.gateway.httppool import UpstreamPool

REQUEST = b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server whose replies each test writes byte by byte."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while not reader.at_eof():
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> RawServer:
        raw = RawServer(handler)
        server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
        raw.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return raw

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def body_of(pool: UpstreamPool, port: int) -> tuple[int, bytes]:
    conn = await pool.request("127.0.0.1", port, REQUEST)
    body = await conn.read_all(1 << 20)
    conn.release()
    return conn.status, body


async def test_chunked_pieces_arrive_as_sent_and_the_connection_is_reused(
    serve: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    go_on = asyncio.Event()

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await go_on.wait()
        go_on.clear()
        for byte in b"7;ext=1\r\n second\r\n0\r\nx-trailer: t\r\n\r\n":
            writer.write(bytes([byte]))  # the worst split there is
            await writer.drain()

    server = await serve(chunked)
    pool = UpstreamPool()
    for _ in range(2):
        conn = await pool.request("127.0.0.1", server.port, REQUEST)
        assert await conn.read() == b"first"  # before the server has sent the rest
        go_on.set()
        assert await conn.read_all(1 << 20) == b" second"
        assert conn.complete
        conn.release()
    assert server.connections == 1
    await pool.aclose()


async def test_lengths_informational_heads_and_close_delimited_bodies(
    serve: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    async def sized(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 3\r\n")
        writer.write(b"Mcp-Session-Id: s-1\r\n\r\nabc")
        await writer.drain()

    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    pool = UpstreamPool()
    sized_server = await serve(sized)
    conn = await pool.request("127.0.0.1", sized_server.port, REQUEST)
    assert (conn.status, await conn.read_all(100)) == (202, b"abc")
    assert (b"mcp-session-id", b"s-1") in conn.headers  # names lower-cased, values kept
    conn.release()
    closing = await serve(until_close)
    assert await body_of(pool, closing.port) == (200, b"all of it")
    assert await body_of(pool, closing.port) == (200, b"all of it")
    assert closing.connections == 2  # a close-delimited body ends its connection
    await pool.aclose()


async def test_failures_say_whether_the_request_may_have_arrived(
    serve: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        await writer.drain()
        writer.close()

    pool = UpstreamPool()
    silent = await serve(hang_up)
    with pytest.raises(UpstreamError) as unanswered:
        await pool.request("127.0.0.1", silent.port, REQUEST)
    assert (unanswered.value.sent, unanswered.value.received) == (True, False)

    cut = await serve(half)
    conn = await pool.request("127.0.0.1", cut.port, REQUEST)
    with pytest.raises(UpstreamError, match="mid-response") as broken:
        await conn.read_all(100)
    assert broken.value.received

    # A port with nothing listening refuses: the request provably never left.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    with pytest.raises(UpstreamError) as refused:
        await pool.request("127.0.0.1", unused, REQUEST)
    assert (refused.value.sent, refused.value.received) == (False, False)
    await pool.aclose()


async def test_idle_connections_are_not_trusted_forever(
    serve: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    server = await serve(ok)
    pool = UpstreamPool(idle_expiry=0.0)
    assert await body_of(pool, server.port) == (200, b"ok")
    assert await body_of(pool, server.port) == (200, b"ok")
    assert server.connections == 2
    await pool.aclose()
