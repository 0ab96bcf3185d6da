"""A stdio channel presented as the official SDK's transport streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from mcp_console.backend.stdio.channel import ChannelClosed, StdioChannel

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from mcp.shared.message import SessionMessage


SdkStreams = tuple[
    "MemoryObjectReceiveStream[SessionMessage | Exception]",
    "MemoryObjectSendStream[SessionMessage]",
]


@asynccontextmanager
async def stdio_transport(channel: StdioChannel) -> AsyncIterator[SdkStreams]:
    """Present a ``StdioChannel`` as the SDK's transport streams.

    Usable as ``Client(stdio_transport(channel))`` or with ``ClientSession(*streams)``.
    Leaving the block stops the pumps but leaves the channel and the server running.
    """
    # The SDK loads only when a stdio session opens: the console's start-up does without it.
    import mcp_types
    from mcp.shared.message import SessionMessage

    to_session, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, from_session = anyio.create_memory_object_stream[SessionMessage](0)

    async def server_to_session() -> None:
        async with to_session:
            while True:
                try:
                    line = await channel.receive_line()
                except ChannelClosed:
                    return
                item: SessionMessage | Exception
                try:
                    item = SessionMessage(
                        mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                    )
                except ValueError as exc:
                    channel.stderr.note(f"invalid JSON-RPC line on stdout: {line[:200]!r}")
                    item = exc
                try:
                    await to_session.send(item)
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return

    async def session_to_server() -> None:
        async with from_session:
            try:
                async for message in from_session:
                    await channel.send_line(
                        message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    )
            except ChannelClosed:
                # The session must see the end rather than wait on a reply forever.
                await to_session.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(server_to_session)
        tg.start_soon(session_to_server)
        try:
            yield read_stream, write_stream
        finally:
            tg.cancel_scope.cancel()
            for stream in (read_stream, write_stream):
                await stream.aclose()
