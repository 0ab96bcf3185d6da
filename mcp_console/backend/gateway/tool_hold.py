"""Tools held back in block mode: hidden from ``tools/list`` replies, refused to ``tools/call``."""

# Only a deployment whose route names blocked tools comes here. A listing's reply is held
# until whole (it ends with its response, streamed or not), then passed on without them:
# one place for HTTP and stdio instances, JSON and SSE replies, both protocol eras.

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Send

from mcp_console.backend.gateway.exchange import TOOL_HELD, Exchange
from mcp_console.backend.gateway.routing import DeploymentRoute

_EVENT_STREAM = b"text/event-stream"
_CONTENT_LENGTH = b"content-length"


async def held_back(ex: Exchange, route: DeploymentRoute, held: frozenset[str]) -> bool:
    """Refuse a call of a held tool (``True``: answered), or filter a listing's reply.

    The body is read as well as the headers: a 2026-07-28 request names its method and
    tool in both, and a stdio instance never compares them.
    """
    message: Any = ex.message if ex.body else None
    body = message if isinstance(message, dict) else {}
    methods = {ex.method, body.get("method")}
    if "tools/call" in methods:
        params = body.get("params")
        named = params.get("name") if isinstance(params, dict) else None
        for name in (ex.tool_name, named):
            if isinstance(name, str) and name in held:
                await ex.reply_error(
                    200,
                    TOOL_HELD,
                    f"tool {name!r} of {route.owner_name}/{route.name} is held back: its "
                    "definition changed (or it is new) since the deployment's operators "
                    "approved its tools; they must review and approve it "
                    f"('mcp-console deploy drift {route.name}', then 'deploy approve') "
                    "before it can be called",
                    data={"tool": name, "reason": "definition-drift"},
                    request_id=ex.request_id,
                )
                return True
    elif "tools/list" in methods:
        ex.send_raw = ListingFilter(ex.send_raw, held)
    return False


class ListingFilter:
    """An ASGI ``send`` that holds a reply until it is whole, then sends it without the
    held tools (the length header fixed to match)."""

    __slots__ = ("_held", "_parts", "_send", "_start")

    def __init__(self, send: Send, held: frozenset[str]) -> None:
        self._send = send
        self._held = held
        self._start: Message | None = None
        self._parts: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            return
        start = self._start
        if kind != "http.response.body" or start is None:
            await self._send(message)
            return
        self._parts.append(message.get("body", b""))
        if message.get("more_body"):
            return
        headers = list(start.get("headers", ()))
        streamed = any(
            n.lower() == b"content-type" and v.startswith(_EVENT_STREAM) for n, v in headers
        )
        data = b"".join(self._parts)
        data = without_held_sse(data, self._held) if streamed else without_held(data, self._held)
        length = str(len(data)).encode()
        headers = [(n, length) if n.lower() == _CONTENT_LENGTH else (n, v) for n, v in headers]
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": data, "more_body": False})


def without_held(data: bytes, held: frozenset[str]) -> bytes:
    """A ``tools/list`` result (JSON) without the held tools; anything else unchanged."""
    try:
        reply = json.loads(data)
    except (ValueError, RecursionError):
        return data
    result = reply.get("result") if isinstance(reply, dict) else None
    if not isinstance(result, dict) or not isinstance(tools := result.get("tools"), list):
        return data
    kept = [t for t in tools if not (isinstance(t, dict) and t.get("name") in held)]
    if len(kept) == len(tools):
        return data
    result["tools"] = kept
    return json.dumps(reply, separators=(",", ":"), ensure_ascii=False).encode()


def without_held_sse(data: bytes, held: frozenset[str]) -> bytes:
    """An SSE reply whose ``data:`` lines are filtered as ``without_held`` does."""
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"data:") and b'"tools"' in line:
            end = b"\r" if line.endswith(b"\r") else b""
            payload = line[5:].strip()
            filtered = without_held(payload, held)
            if filtered is not payload:
                lines[i] = b"data: " + filtered + end
    return b"\n".join(lines)
