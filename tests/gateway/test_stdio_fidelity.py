"""Every message through the gateway to a stdio server: a session of its own hears and answers
everything; a shared connection promises only what it can deliver."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, MCPError
from mcp_types import METHOD_NOT_FOUND, TextContent

from mcp_console.backend.deploy.drivers.process import ProcessManager

from .client_side import MESSAGE_TIMEOUT, ClientSide
from .helpers import GatewayEnv, ProcessProvider, connect, stdio_process

# Subscriptions and log levels are what handshake-era clients use, and what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")

ASKING = (sys.executable, str(Path(__file__).with_name("asking_server.py")))
ACCEPT = "application/json, text/event-stream"
SAMPLE = {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5}
ELICIT = {
    "mode": "form",
    "message": "name?",
    "requestedSchema": {"type": "object", "properties": {}},
}


@pytest.fixture
def owned(env: GatewayEnv, process_manager: ProcessManager) -> str:
    """A per-session deployment of the asking server: each session has a process of its own."""
    env.gateway.instance_provider = ProcessProvider(process_manager, "stdio", ASKING)
    return env.endpoint(env.deploy(mode="per-session"))


async def answer(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> Any:
    """The JSON a tool of the asking server returned."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    return json.loads(block.text)


async def test_a_session_of_its_own_declares_the_clients_capabilities_and_routes_its_answers(
    env: GatewayEnv, owned: str
) -> None:
    side = ClientSide("ann")
    with anyio.fail_after(60):
        async with connect(owned, env.owner, "legacy", **side.kwargs()) as client:
            declared = await answer(client, "caps")
            sampled = await answer(
                client, "ask", {"method": "sampling/createMessage", "params": SAMPLE}
            )
            elicited = await answer(
                client, "ask", {"method": "elicitation/create", "params": ELICIT}
            )
            roots = await answer(client, "ask", {"method": "roots/list"})
            advertised = client.server_capabilities

    # The server was opened with the client's own initialize: its capabilities and name.
    assert {"sampling", "elicitation", "roots"} <= set(declared["capabilities"])
    assert declared["capabilities"]["roots"] == {"listChanged": True}
    assert declared["clientInfo"]["name"] == "mcp"
    # Its questions reached the client's callbacks, and the answers came back to it.
    assert [p.max_tokens for p in side.sampled] == [5]
    assert sampled == {
        "role": "assistant",
        "content": {"type": "text", "text": "ann sampled"},
        "model": "ann-model",
    }
    assert [p.message for p in side.elicited] == ["name?"]
    assert elicited == {"action": "accept", "content": {"name": "ann answered"}}
    assert side.roots_asked == 1
    assert roots == {"roots": [{"uri": side.root, "name": "ann"}]}
    # Nothing is hidden from a session that can receive everything.
    assert advertised is not None
    assert advertised.logging is not None
    assert advertised.tools is not None
    assert advertised.tools.list_changed
    assert advertised.resources is not None
    assert advertised.resources.subscribe


async def test_notifications_reach_the_session_whose_server_sent_them(
    env: GatewayEnv, owned: str
) -> None:
    ann, bob = ClientSide("ann"), ClientSide("bob")
    with anyio.fail_after(60):
        async with (
            connect(owned, env.owner, "legacy", **ann.kwargs()) as first,
            connect(owned, env.owner, "legacy", **bob.kwargs()) as second,
        ):
            await first.subscribe_resource("demo://a")
            await first.set_logging_level("debug")
            assert await answer(first, "notify", {"uri": "demo://a"}) == "sent"
            await ann.until(
                "the log and the two notifications",
                lambda: len(ann.logs) + len(ann.kinds()) >= 3,
            )
            done = await first.call_tool("progress", {}, progress_callback=ann.on_progress)
            # The other session's own server said nothing: a round trip there shows nothing came.
            assert (await answer(second, "caps"))["clientInfo"]["name"] == "mcp"

    assert [(log.level, log.data) for log in ann.logs] == [("info", "hello")]
    assert ann.kinds() == ["tools/list_changed", "resources/updated demo://a"]
    assert not done.is_error
    assert ann.progress == [(1, 2), (2, 2)]
    assert bob.logs == []
    assert bob.kinds() == []
    assert bob.progress == []


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON-RPC messages of an SSE response, as they come."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


async def test_what_the_server_says_takes_the_stream_the_client_holds_open(
    env: GatewayEnv, owned: str
) -> None:
    headers = {**env.owner.headers, "accept": ACCEPT}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {"sampling": {}},
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }

    def call(request_id: int, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        params = {"name": tool, "arguments": arguments}
        return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}

    ask = {"method": "sampling/createMessage", "params": SAMPLE}
    reply_result = {"role": "assistant", "content": {"type": "text", "text": "raw"}, "model": "m"}
    async with httpx.AsyncClient(timeout=MESSAGE_TIMEOUT) as http:
        opened = await http.post(owned, json=init, headers=headers)
        headers["mcp-session-id"] = opened.headers["mcp-session-id"]
        headers["mcp-protocol-version"] = "2025-11-25"
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await http.post(owned, json=note, headers=headers)).status_code == 202

        # No GET stream: the server's question rides on the reply to the call that caused it,
        # under the server's own id, and the client's answer goes back as it came.
        async with http.stream("POST", owned, json=call(1, "ask", ask), headers=headers) as asked:
            assert asked.headers["content-type"] == "text/event-stream"
            events = _events(asked)
            question = await anext(events)
            assert question["method"] == "sampling/createMessage"
            assert question["params"] == SAMPLE
            first_id = question["id"]
            assert first_id.startswith("asking-")  # the server's own id
            back = {"jsonrpc": "2.0", "id": question["id"], "result": reply_result}
            assert (await http.post(owned, json=back, headers=headers)).status_code == 202
            final = await anext(events)
        assert final["id"] == 1
        assert json.loads(final["result"]["content"][0]["text"]) == reply_result

        # A message the server sends after its reply waits for a stream: the reply is plain JSON.
        replied = await http.post(owned, json=call(2, "notify-after", {}), headers=headers)
        assert replied.headers["content-type"] == "application/json"
        assert json.loads(replied.json()["result"]["content"][0]["text"]) == "replied"
        async with http.stream("GET", owned, headers=headers) as stream:
            listening = _events(stream)
            waiting = await anext(listening)
            assert waiting["method"] == "notifications/message"
            assert waiting["params"]["data"] == "after"

            # With the GET stream open, the next question goes there, and the call's own
            # reply stays plain JSON.
            pending = asyncio.ensure_future(
                http.post(owned, json=call(3, "ask", ask), headers=headers)
            )
            question = await anext(listening)
            assert question["method"] == "sampling/createMessage"
            assert question["id"] != first_id
            back = {"jsonrpc": "2.0", "id": question["id"], "result": reply_result}
            assert (await http.post(owned, json=back, headers=headers)).status_code == 202
            answered = await pending
        assert answered.headers["content-type"] == "application/json"
        assert answered.json()["id"] == 3


async def test_a_shared_connection_advertises_and_accepts_only_what_it_can_deliver(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    url = env.endpoint(env.deploy(await stdio_process(process_manager, "shared", ASKING)))
    side = ClientSide("ann")
    with anyio.fail_after(60):
        async with connect(url, env.owner, "legacy", **side.kwargs()) as client:
            advertised = client.server_capabilities
            declared = await answer(client, "caps")
            with pytest.raises(MCPError) as subscribe:
                await client.subscribe_resource("demo://a")
            with pytest.raises(MCPError) as set_level:
                await client.set_logging_level("debug")
            refused = await answer(
                client, "ask", {"method": "sampling/createMessage", "params": SAMPLE}
            )
            assert await answer(client, "notify", {"uri": "demo://a"}) == "sent"
            await answer(client, "caps")  # a round trip after the notifications were sent

    # The server's logs, list changes and resource updates name no session: not promised.
    assert advertised is not None
    assert advertised.logging is None
    assert advertised.tools is not None
    assert not advertised.tools.list_changed
    assert advertised.resources is not None
    assert not advertised.resources.subscribe
    assert not advertised.resources.list_changed
    # The gateway opened the connection promising nothing, so nothing is asked of a client.
    assert declared["capabilities"] == {}
    assert declared["clientInfo"]["name"] == "mcp-console-gateway"
    for refusal in (subscribe.value, set_level.value):
        assert refusal.error.code == METHOD_NOT_FOUND
        assert "shares one server connection between sessions" in refusal.error.message
    assert refused == {"error": {"code": METHOD_NOT_FOUND, "message": refused["error"]["message"]}}
    assert side.sampled == []
    assert side.logs == []
    assert side.kinds() == []


MODERN_HEADERS = {
    "accept": ACCEPT,
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "caps",
}
MODERN_CALL = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {
        "name": "caps",
        "arguments": {},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
        },
    },
}


async def test_a_2026_client_is_told_to_open_a_session_rather_than_answered_for(
    env: GatewayEnv, process_manager: ProcessManager, owned: str
) -> None:
    shared = env.endpoint(env.deploy(await stdio_process(process_manager, "shared", ASKING)))
    async with httpx.AsyncClient(timeout=MESSAGE_TIMEOUT) as http:
        answers = [
            await http.post(url, json=MODERN_CALL, headers={**env.owner.headers, **MODERN_HEADERS})
            for url in (shared, owned)
        ]
    # A server of the handshake era asks its questions within a session: the client must
    # open one (dual-era clients fall back to initialize), nothing is answered for it.
    for answer_ in answers:
        assert answer_.status_code == 400
        error = answer_.json()["error"]
        assert error["code"] == -32022
        assert "initialize" in error["message"]
        assert "2025-11-25" in error["data"]["supported"]


async def test_a_session_its_server_refuses_gives_its_instance_back(
    env: GatewayEnv, process_manager: ProcessManager
) -> None:
    provider = ProcessProvider(process_manager, "stdio", ASKING)
    env.gateway.instance_provider = provider
    url = env.endpoint(env.deploy(mode="per-session"))
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {}},
    }
    async with httpx.AsyncClient(timeout=MESSAGE_TIMEOUT) as http:
        refused = await http.post(url, json=init, headers={**env.owner.headers, "accept": ACCEPT})
    # The server's own refusal reaches the client; no session opens, and its process goes.
    assert refused.json()["error"] == {"code": -32602, "message": "Unsupported protocol version"}
    assert "mcp-session-id" not in refused.headers
    with anyio.fail_after(MESSAGE_TIMEOUT):
        while not provider.released:
            await asyncio.sleep(0.05)
    assert provider.released == list(provider.refs)
    assert env.gateway.list_sessions() == []
