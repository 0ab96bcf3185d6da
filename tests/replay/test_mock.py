"""``mcp-console mock``: a recording served as an MCP server answers the official SDK client
as the recorded server did, over Streamable HTTP (either era) and stdio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_console.devtools import recording
from mcp_console.devtools.inspect_session import Session, recorded_client
from mcp_console.devtools.replay import dumped
from mcp_console.devtools.targets import command_target
from tests.replay.helpers import CONSOLE, EXAMPLE, TIMEOUT, mock_over_http


async def _session(client: Client) -> list[dict[str, Any]]:
    """What a client asks in the recorded session, and each answer as the wire has it."""
    answers = [
        await client.list_tools(),
        await client.call_tool("add", {"a": 2, "b": 40}),
        await client.call_tool("echo", {"text": "hi"}),
        await client.call_tool("counter", {}),
        await client.call_tool("counter", {}),
        await client.read_resource("example://info"),
        await client.get_prompt("summarize", {"text": "MCP"}),
    ]
    return [dumped(a) for a in answers]


async def test_a_mock_answers_the_sdk_client_as_the_original_did(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    session = Session(command_target(EXAMPLE))
    async with recorded_client(session, timeout=TIMEOUT) as client:
        original = await _session(client)
    recording.write(session.recording(), path)

    async with mock_over_http(path) as url:
        async with Client(url, read_timeout_seconds=TIMEOUT) as modern:
            over_modern = await _session(modern)
            era = modern.protocol_version
            info = modern.server_info
            unrecorded = await modern.call_tool("add", {"a": 1, "b": 1})
        async with Client(url, mode="legacy", read_timeout_seconds=TIMEOUT) as legacy:
            over_legacy = await _session(legacy)
            legacy_era = legacy.protocol_version
    command = StdioServerParameters(command=CONSOLE[0], args=[*CONSOLE[1:], "mock", str(path)])
    async with Client(stdio_client(command), read_timeout_seconds=TIMEOUT) as over_stdio:
        stdio_answers = await _session(over_stdio)

    assert original[3]["structuredContent"] == {"result": 1}
    assert original[4]["structuredContent"] == {"result": 2}
    assert over_modern == original
    assert over_legacy == original
    assert stdio_answers == original
    assert (era, legacy_era) == ("2026-07-28", "2025-11-25")
    assert info is not None
    assert (info.name, info.version) == ("mcp-console-example", "1.0.0")
    assert unrecorded.is_error
    assert unrecorded.content[0].model_dump()["text"] == (
        'the recording has no call of add with {"a": 1, "b": 1} '
        '(recorded calls of add: [{"a": 2, "b": 40}])'
    )
