"""A test MCP server over Streamable HTTP whose replies to some methods lack a required field.

Run as a file (standard library and the SDK only):
``python nonconforming_server.py --port N --drop tools/call=resultType``: the results of
each ``--drop METHOD=FIELD`` lack that field. Everything else (discovery, the handshake,
``tools/list``) conforms, so the server passes health checks and its faults show only where
a client meets them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn
from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

mcp = MCPServer("nonconforming-test", version="1.0.0")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.prompt()
def greet(name: str) -> str:
    """A greeting."""
    return f"Hello, {name}!"


class DropFields:
    """Rewrites the replies of some methods (JSON or SSE bodies) without a field each."""

    def __init__(self, app: ASGIApp, dropped: dict[str, str]) -> None:
        self.app = app
        self.dropped = dropped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        method = request.get("method") if isinstance(request, dict) else None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        field = self.dropped.get(str(method))
        if field is None:
            await self.app(scope, replay, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                data = _drop(b"".join(chunks), field)
                headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
                headers.append((b"content-length", str(len(data)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": data})

        await self.app(scope, replay, capture)


def _drop(data: bytes, field: str) -> bytes:
    """``data`` (a JSON reply or SSE events) with ``field`` removed from each result."""

    def without(text: str) -> str:
        message: Any = json.loads(text)
        if isinstance(message, dict) and isinstance(message.get("result"), dict):
            message["result"].pop(field, None)
        return json.dumps(message)

    text = data.decode()
    if text.lstrip().startswith("{"):
        return without(text).encode()
    lines = [
        "data: " + without(line[6:]) if line.startswith("data: {") else line
        for line in text.split("\n")
    ]
    return "\n".join(lines).encode()


def main() -> None:
    """Serve on 127.0.0.1 at ``--port``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--drop", action="append", default=[], metavar="METHOD=FIELD")
    args = parser.parse_args()
    dropped = dict(item.split("=", 1) for item in args.drop)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*"],
        allowed_origins=["http://127.0.0.1:*"],
    )
    app = mcp.streamable_http_app(transport_security=security)
    uvicorn.run(DropFields(app, dropped), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
