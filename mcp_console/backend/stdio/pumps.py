"""Pumps that feed a server's pipes or Docker attach stream into its channel."""

from __future__ import annotations

import asyncio
import contextlib
import struct

from mcp_console.backend.stdio.channel import StderrBuffer, StdioChannel

_STDOUT_FRAME = 1
_STDERR_FRAME = 2
_DOCKER_HEADER = struct.Struct(">BxxxL")


async def pump_docker_attach(reader: asyncio.StreamReader, channel: StdioChannel) -> None:
    """Demultiplex Docker's attach stream: 8-byte headers, then stdout or stderr payloads.

    Frames do not align with JSON lines; the channel re-splits stdout on newlines.
    """
    try:
        while True:
            header = await reader.readexactly(_DOCKER_HEADER.size)
            kind, length = _DOCKER_HEADER.unpack(header)
            payload = await reader.readexactly(length) if length else b""
            if kind == _STDOUT_FRAME:
                await channel.feed_stdout(payload)
            elif kind == _STDERR_FRAME:
                channel.stderr.feed(payload)
    except (asyncio.IncompleteReadError, ConnectionError, OSError):
        pass
    finally:
        await channel.feed_eof()


async def pump_stdout(reader: asyncio.StreamReader, channel: StdioChannel) -> None:
    """Feed a subprocess's stdout pipe into the channel."""
    try:
        while chunk := await reader.read(65536):
            await channel.feed_stdout(chunk)
    except (ConnectionError, OSError):
        pass
    finally:
        await channel.feed_eof()


async def pump_stderr(
    reader: asyncio.StreamReader, stderr: StderrBuffer, stream: str = "stderr"
) -> None:
    """Feed a subprocess's stderr pipe (or an HTTP server's stdout) into its ring buffer."""
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await reader.read(65536):
            stderr.feed(chunk, stream)
