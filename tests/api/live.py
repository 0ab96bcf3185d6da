"""The real API in-process: uvicorn on a free loopback port, on the test's own loop."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from mcp_console.backend.api.server import ApiServer, bind_socket, url_of


@dataclass
class Live:
    """A running API server."""

    url: str
    server: ApiServer
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop it as SIGTERM does, and wait until it has."""
        self.server.should_exit = True
        await self.task


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Live]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the context ends."""
    sock = await bind_socket("127.0.0.1", 0)
    server = ApiServer(app, "127.0.0.1", sock.getsockname()[1])
    live = Live(url_of(sock), server, asyncio.create_task(server.serve(sockets=[sock])))
    try:
        while not server.started:
            if live.task.done():
                await live.task
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.01)
        yield live
    finally:
        await live.stop()
        sock.close()


def example_url(path: str, name: str = "io.github.acme%2Fweather") -> str:
    """An OpenAPI path template filled in: ``{name}`` with ``name`` (a slashed name, sent as
    one segment by default), every other parameter with its own name."""
    return re.sub(r"\{(\w+)\}", lambda m: name if m[1] == "name" else m[1], path)


def auth(token: str) -> dict[str, str]:
    """The header that authenticates as ``token``'s user."""
    return {"Authorization": f"Bearer {token}"}


async def read_sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    """``("comment", text)`` for comments and ``(event, data)`` for events, as they arrive."""
    event, data = "message", []
    async for line in lines:
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error response (its shape is checked on the way)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "field"}, error
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)
