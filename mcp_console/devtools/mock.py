"""A recording served as an MCP server: each request answered by the recorded one it matches."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    ReadResourceResult,
    TextContent,
)
from pydantic import BaseModel

from mcp_console.devtools.recording import calls
from mcp_console.schemas.monitor import RpcDirection
from mcp_console.schemas.recording import RecordedCall, Recording

R = TypeVar("R", bound=BaseModel)
# Request parameters that say how a request travelled, not what it asks.
TRANSPORT_PARAMS = frozenset({"_meta"})
LISTINGS = frozenset({"tools/list", "resources/list", "resources/templates/list", "prompts/list"})


def request_key(method: str, params: dict[str, Any] | None) -> str:
    """What identifies a request among the recorded ones: its method and its parameters
    (without their transport metadata), as canonical JSON."""
    asked = {k: v for k, v in (params or {}).items() if k not in TRANSPORT_PARAMS and v is not None}
    if method == "tools/call":
        asked.setdefault("arguments", {})
    return json.dumps([method, asked], sort_keys=True, separators=(",", ":"))


class Answers:
    """The recorded answers by request; a request recorded several times is answered as
    recorded in turn (a counter counts on), the last answer repeating after that."""

    def __init__(self, recording: Recording) -> None:
        self._by_key: dict[str, list[RecordedCall]] = defaultdict(list)
        self._by_method: dict[str, list[RecordedCall]] = defaultdict(list)
        self._served: dict[tuple[str, str], int] = defaultdict(int)
        for call in calls(recording):
            self._by_key[request_key(call.method, call.params)].append(call)
            self._by_method[call.method].append(call)

    @property
    def methods(self) -> set[str]:
        """The methods recorded."""
        return set(self._by_method)

    def find(
        self, method: str, params: dict[str, Any] | None, session: str = ""
    ) -> RecordedCall | None:
        """The recorded call that answers this request in ``session``, or ``None``."""
        key = request_key(method, params)
        found = self._by_key.get(key)
        if not found:
            # A listing asked with another cursor (or none) gets the first page recorded.
            listed = self._by_method.get(method) if method in LISTINGS else None
            return listed[0] if listed else None
        # Each session sees the recorded sequence from its start, as it would a new server.
        turn = self._served[session, key]
        self._served[session, key] = turn + 1
        return found[min(turn, len(found) - 1)]

    def recorded_calls(self, tool: str) -> list[dict[str, Any]]:
        """The arguments each recorded call of ``tool`` was made with."""
        return [
            c.params.get("arguments") or {}
            for c in self._by_method["tools/call"]
            if c.params.get("name") == tool
        ]


def _params(params: BaseModel | None) -> dict[str, Any]:
    if params is None:
        return {}
    dumped: dict[str, Any] = params.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


def _session_of(ctx: ServerRequestContext[Any]) -> str:
    """The client session a request belongs to: stdio is one session; over HTTP, the
    ``Mcp-Session-Id`` header names it (modern requests carry none and share one)."""
    request = ctx.request
    if request is None:
        return "stdio"
    headers = getattr(request, "headers", {})
    return str(headers.get("mcp-session-id") or "sessionless")


def _replayed(call: RecordedCall, kind: type[R]) -> R:
    """The recorded answer of ``call``: its result, or its error raised again."""
    if call.error is not None:
        raise MCPError(int(call.error.get("code", -32603)), str(call.error.get("message", "")))
    return kind.model_validate(call.result or {}, by_name=False)


def _answered(
    answers: Answers, method: str, kind: type[R]
) -> Callable[[ServerRequestContext[Any], Any], Awaitable[R]]:
    async def handler(ctx: ServerRequestContext[Any], params: Any) -> R:
        asked = _params(params)
        call = answers.find(method, asked, _session_of(ctx))
        if call is None:
            raise MCPError(
                INVALID_PARAMS, f"the recording has no {method} request like this one: {asked}"
            )
        return _replayed(call, kind)

    return handler


def _tool_call(answers: Answers) -> Callable[[ServerRequestContext[Any], Any], Awaitable[Any]]:
    async def handler(ctx: ServerRequestContext[Any], params: Any) -> CallToolResult:
        call = answers.find("tools/call", _params(params), _session_of(ctx))
        if call is not None:
            return _replayed(call, CallToolResult)
        # A call nobody recorded fails as a tool failure, naming what was recorded.
        name = getattr(params, "name", "")
        seen = answers.recorded_calls(name)
        known = f"recorded calls of {name}: {json.dumps(seen)}" if seen else f"{name} never called"
        asked = json.dumps(params.arguments or {})
        text = f"the recording has no call of {name} with {asked} ({known})"
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    return handler


def _server_result(recording: Recording) -> dict[str, Any]:
    """The recorded reply to the session's opening (initialize or server/discover)."""
    opened: set[Any] = {
        m.message.get("id")
        for m in recording.messages
        if m.direction is RpcDirection.SENT
        and m.message.get("method") in ("initialize", "server/discover")
    }
    for m in recording.messages:
        reply = m.message.get("result")
        if m.direction is RpcDirection.RECEIVED and m.message.get("id") in opened and reply:
            return dict(reply)
    return {}


def mock_server(recording: Recording) -> Server[Any]:
    """A low-level MCP server that answers as ``recording`` shows its server answered."""
    answers = Answers(recording)
    families = {method.partition("/")[0] for method in answers.methods}
    opened = _server_result(recording)
    handlers: dict[str, Any] = {}
    if "tools" in families:
        handlers["on_list_tools"] = _answered(answers, "tools/list", ListToolsResult)
        handlers["on_call_tool"] = _tool_call(answers)
    if "resources" in families:
        handlers["on_list_resources"] = _answered(answers, "resources/list", ListResourcesResult)
        handlers["on_list_resource_templates"] = _answered(
            answers, "resources/templates/list", ListResourceTemplatesResult
        )
        handlers["on_read_resource"] = _answered(answers, "resources/read", ReadResourceResult)
    if "prompts" in families:
        handlers["on_list_prompts"] = _answered(answers, "prompts/list", ListPromptsResult)
        handlers["on_get_prompt"] = _answered(answers, "prompts/get", GetPromptResult)
    header = recording.header
    info = opened.get("serverInfo") or {}
    return Server(
        str(info.get("name") or header.server_name or "mcp-console-mock"),
        version=str(info.get("version") or header.server_version or ""),
        instructions=opened.get("instructions"),
        **handlers,
    )


async def serve_stdio(recording: Recording) -> None:
    """Serve ``recording`` on this process's stdin and stdout until the client leaves."""
    from mcp.server.stdio import stdio_server

    server = mock_server(recording)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(recording: Recording, port: int, ready: Callable[[str], None]) -> None:
    """Serve ``recording`` over Streamable HTTP on 127.0.0.1:``port`` until stopped;
    ``ready`` hears the endpoint's URL once it listens."""
    import uvicorn

    app = mock_server(recording).streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    original = server.startup

    async def started(sockets: Any = None) -> None:
        await original(sockets)
        bound = port
        for listener in server.servers:
            for sock in listener.sockets:
                bound = sock.getsockname()[1]
        ready(f"http://127.0.0.1:{bound}/mcp")

    server.startup = started  # type: ignore[method-assign]
    await server.serve()
