"""What passes through the gateway unchanged, what it rewrites, and what it meters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from mcp_console.backend.deploy.drivers.process import ProcessManager
from mcp_console.backend.gateway.routing import DeploymentRoute, UpstreamInstance
from mcp_console.backend.gateway.server import bind

from .helpers import GatewayEnv, connect, http_process, result_of

ACCEPT = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def modern(method: str, name: str | None = None) -> dict[str, str]:
    headers = dict(ACCEPT, **{"mcp-protocol-version": "2026-07-28", "mcp-method": method})
    if name is not None:
        headers["mcp-name"] = name
    return headers


class Recorder:
    """A minimal Streamable HTTP server that remembers what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        request = json.loads(body) if body else None
        self.seen.append((scope["method"], headers, request))
        extra: list[tuple[bytes, bytes]] = []
        if request is None or "id" not in request:
            await send({"type": "http.response.start", "status": 202, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if request["method"] == "initialize":
            extra.append((b"mcp-session-id", b"upstream-session-1"))
        reply = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": {}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": reply})


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, UpstreamInstance]]:
    app = Recorder()
    sock = await bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    yield app, UpstreamInstance("rec", "streamable-http", url=f"http://127.0.0.1:{port}/mcp")
    server.should_exit = True
    await task
    sock.close()


async def test_credentials_stay_at_the_gateway_and_session_ids_are_its_own(
    env: GatewayEnv, recorder: tuple[Recorder, UpstreamInstance]
) -> None:
    app, instance = recorder
    url = env.endpoint(env.deploy(instance))
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
    }
    sent = {
        **ACCEPT,
        **env.owner.headers,
        "origin": "http://localhost:3000",
        "cookie": "theirs=1",
        "mcp-param-region": "eu",
        "x-trace": "t-1",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        opened = await http.post(url, json=initialize, headers=sent)
        ours = opened.headers["mcp-session-id"]
        follow = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={**sent, "mcp-session-id": ours, "mcp-protocol-version": "2025-11-25"},
        )
    assert opened.status_code == follow.status_code == 200
    assert ours != "upstream-session-1"
    assert follow.headers["mcp-session-id"] == ours
    (_, first, _), (_, second, body) = app.seen
    for headers in (first, second):
        assert "authorization" not in headers
        assert "cookie" not in headers
        assert "origin" not in headers
        assert headers["host"] == instance.url.split("/")[2]  # type: ignore[union-attr]
        assert headers["mcp-param-region"] == "eu"
        assert headers["x-trace"] == "t-1"
    assert "mcp-session-id" not in first
    assert second["mcp-session-id"] == "upstream-session-1"
    assert second["mcp-protocol-version"] == "2025-11-25"
    assert body == {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


async def test_upstream_statuses_and_errors_pass_through(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    url = env.endpoint(env.deploy(await http_process(process_manager, "one")))
    call = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": META},
    }
    auth = env.owner.headers
    async with httpx.AsyncClient(timeout=30) as http:
        mismatch = await http.post(url, json=call, headers={**modern("tools/call", "echo"), **auth})
        unknown = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 4, "method": "no/such", "params": {"_meta": META}},
            headers={**modern("no/such"), **auth},
        )
        no_stream = await http.get(url, headers={**modern("x"), **auth})
        sessionless = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 5, "method": "tools/list"},
            headers={**ACCEPT, **auth},
        )
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["code"] == -32020
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == -32601
    assert no_stream.status_code == 405
    assert sessionless.status_code == 400
    assert "Missing session ID" in sessionless.json()["error"]["message"]
    # The instance attached a session id of its own to that refusal: it must not leak.
    assert "mcp-session-id" not in sessionless.headers
    # The meter saw each refusal with its JSON-RPC code (or as a plain HTTP error).
    seen = [(r.method, r.status, r.error) for r in env.meter.records]
    assert seen == [
        ("tools/call", 400, -32020),
        ("no/such", 404, -32601),
        ("GET", 405, True),
        ("tools/list", 400, -32600),
    ]


async def test_every_request_is_metered_once_with_what_it_was(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    route: DeploymentRoute = env.deploy(await http_process(process_manager, "one"))
    url = env.endpoint(route)
    async with connect(url, env.owner, "2026-07-28") as client:
        assert await result_of(client, "add", {"a": 1, "b": 2}) == 3
        assert (await client.call_tool("no-such-tool", {})).is_error
    async with connect(url, env.friend, "legacy") as client:
        assert await result_of(client, "echo", {"text": "x" * 1000}) == "x" * 1000

    add = env.meter.calls("add")
    assert len(add) == 1
    (record,) = add
    assert (record.deployment_id, record.instance_id, record.user_id) == (
        route.deployment_id,
        "one",
        env.owner.principal.user_id,
    )
    assert (record.status, record.error) == (200, False)
    assert record.bytes_in > 0
    assert record.bytes_out > 0
    assert record.latency_ms > 0
    # A tool that reports a failure is a served request, not a gateway error.
    (unknown,) = env.meter.calls("no-such-tool")
    assert (unknown.status, unknown.error) == (200, False)
    (echo,) = env.meter.calls("echo")
    assert echo.user_id == env.friend.principal.user_id
    assert echo.bytes_in > 1000
    assert echo.bytes_out > 1000
    methods = [r.method for r in env.meter.records if r.user_id == env.friend.principal.user_id]
    assert methods[:2] == ["initialize", "notifications/initialized"]
    assert "DELETE" in methods
    # In-flight counts went up and back down to nothing.
    assert env.meter.inflight == {"one": 0}


async def test_an_instance_dying_between_headers_and_body_gives_a_json_rpc_error(
    env: GatewayEnv,
) -> None:
    # An instance killed mid-reply: its headers promise a body that never comes.
    async def cut_off(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 250\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(cut_off, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    instance = UpstreamInstance("dying", "streamable-http", url=f"http://127.0.0.1:{port}/mcp")
    url = env.endpoint(env.deploy(instance))
    call = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": META},
    }
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            reply = await http.post(
                url, json=call, headers={**modern("tools/call", "add"), **env.owner.headers}
            )
    finally:
        server.close()
        await server.wait_closed()
    assert reply.status_code == 502
    error = reply.json()
    assert error["id"] == 9
    assert "dying broke off its reply" in error["error"]["message"]
    (record,) = env.meter.calls("add")
    assert record.error
