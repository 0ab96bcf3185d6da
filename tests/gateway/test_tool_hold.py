"""Held-back tools leave a tools/list reply, JSON or SSE; other replies pass untouched."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message

from mcp_console.backend.gateway.tool_hold import ListingFilter, without_held, without_held_sse

HELD = frozenset({"echo"})


def listing(*names: str) -> bytes:
    tools = [{"name": n, "inputSchema": {"type": "object"}} for n in names]
    return json.dumps({"jsonrpc": "2.0", "id": 3, "result": {"tools": tools}}).encode()


def names(reply: bytes) -> list[str]:
    return [t["name"] for t in json.loads(reply)["result"]["tools"]]


def test_a_json_listing_loses_the_held_tools_only() -> None:
    assert names(without_held(listing("add", "echo", "sleep"), HELD)) == ["add", "sleep"]
    untouched = listing("add")
    assert without_held(untouched, HELD) is untouched
    call = b'{"jsonrpc":"2.0","id":4,"result":{"content":[]}}'
    assert without_held(call, HELD) is call
    assert without_held(b"not json", HELD) == b"not json"


def test_an_sse_listing_keeps_its_other_events() -> None:
    progress = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{}}'
    stream = (
        b"event: message\r\ndata: " + progress + b"\r\n\r\n"
        b"event: message\r\ndata: " + listing("add", "echo") + b"\r\n\r\n"
    )
    events = without_held_sse(stream, HELD).split(b"\r\n\r\n")
    assert events[0] == b"event: message\r\ndata: " + progress
    data = events[1].split(b"data: ", 1)[1]
    assert names(data) == ["add"]


async def test_the_filter_sends_one_whole_reply_with_its_length_fixed() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    body = listing("echo", "add")
    send_filtered = ListingFilter(send, HELD)
    headers: list[tuple[bytes, Any]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send_filtered({"type": "http.response.start", "status": 200, "headers": headers})
    await send_filtered({"type": "http.response.body", "body": body[:10], "more_body": True})
    assert sent == []
    await send_filtered({"type": "http.response.body", "body": body[10:], "more_body": False})
    start, whole = sent
    assert names(whole["body"]) == ["add"]
    assert dict(start["headers"])[b"content-length"] == str(len(whole["body"])).encode()
    assert whole["more_body"] is False
