"""The inspector's side of FakeClient: a small weather server behind every running deployment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mcp_console.schemas.deploy import DeploymentCreate, DeploymentDetail, DeploymentStatus
from mcp_console.schemas.errors import Invalid, NotFound, Unavailable
from mcp_console.schemas.monitor import (
    InspectReport,
    PromptInfo,
    ResourceInfo,
    RpcDirection,
    RpcMessage,
    ToolCallOutcome,
    ToolInfo,
)
from mcp_console.schemas.server_docs import ServerDefinitions
from tests.tui.fake_deployments import FakeDeployments
from tests.tui.sample import NOW

PROTOCOL = "2025-11-25"
TOOLS = [
    ToolInfo(
        name="forecast",
        title="Forecast",
        description="Daily forecast for a place.",
        input_schema={
            "type": "object",
            "properties": {
                "place": {"type": "string", "description": "City or coordinates"},
                "days": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                "units": {"type": "string", "enum": ["metric", "imperial"]},
            },
            "required": ["place"],
        },
    ),
    ToolInfo(
        name="alerts",
        description="Active weather alerts in a region.",
        input_schema={
            "type": "object",
            "properties": {"region": {"type": "string", "enum": ["eu", "us", "asia"]}},
            "required": ["region"],
        },
    ),
    ToolInfo(name="stations", description="Every station it knows.", input_schema={}),
]
RESOURCES = [
    ResourceInfo(
        uri="weather://stations", name="stations", description="Station list", mime_type="text/csv"
    )
]
PROMPTS = [PromptInfo(name="plan-trip", description="Plan a trip by the weather", arguments=["to"])]
KNOWN_PLACES = {"Lisbon": [21, 23, 19], "Oslo": [4, 2, 5]}


class FakeInspector:
    """Answers ``inspect_deployment``, ``server_definitions`` and ``call_tool`` the way the
    gateway's inspector does.

    A deployment must exist and be running; the server checks arguments against the tool's
    schema (``Invalid`` naming the argument) and reports a place it does not know as a tool
    error. ``calls`` records every call that reached the server.
    """

    def __init__(self, deployments: Mapping[str, DeploymentDetail]) -> None:
        self._deployments = deployments
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def _running(self, name: str) -> DeploymentDetail:
        found = self._deployments.get(name)
        if found is None:
            raise NotFound(f"no deployment named {name!r}", field="name")
        if found.status is not DeploymentStatus.RUNNING:
            raise Unavailable(f"{name} has no healthy instance to answer right now")
        return found

    def inspect(self, name: str) -> InspectReport:
        """What the server behind ``name`` lists, with the session's messages."""
        self._running(name)
        results = {
            "tools/list": {"tools": [_tool_wire(t) for t in TOOLS]},
            "resources/list": {"resources": [r.model_dump(exclude_none=True) for r in RESOURCES]},
            "prompts/list": {"prompts": [p.model_dump() for p in PROMPTS]},
        }
        exchange = _handshake()
        for method, result in results.items():
            exchange += _request(len(exchange), method, {}, result)
        return InspectReport(
            deployment=name,
            server_name="weather",
            server_version="2.1.0",
            protocol_version=PROTOCOL,
            tools=list(TOOLS),
            resources=list(RESOURCES),
            prompts=list(PROMPTS),
            exchange=exchange,
        )

    def definitions(self, name: str) -> ServerDefinitions:
        """What the server behind ``name`` lists, as the listings give it (sorted by name)."""
        self._running(name)
        return ServerDefinitions(
            server_name="weather",
            server_version="2.1.0",
            tools=sorted((_tool_wire(t) for t in TOOLS), key=lambda t: t["name"]),
            resources=[
                {
                    "uri": r.uri,
                    "name": r.name,
                    "description": r.description,
                    "mimeType": r.mime_type,
                }
                for r in RESOURCES
            ],
            prompts=[
                {
                    "name": p.name,
                    "description": p.description,
                    "arguments": [{"name": a} for a in p.arguments],
                }
                for p in PROMPTS
            ],
        )

    def call(self, name: str, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        """Call ``tool``: ``Invalid`` for arguments that do not fit, else the server's answer."""
        self._running(name)
        found = next((t for t in TOOLS if t.name == tool), None)
        if found is None:
            offered = ", ".join(sorted(t.name for t in TOOLS))
            raise Invalid(f"there is no tool {tool!r} (tools: {offered})", field="tool")
        _check(found, arguments)
        self.calls.append((name, tool, dict(arguments)))
        content, structured, is_error = _answer(tool, arguments)
        result: dict[str, Any] = {"content": content, "isError": is_error}
        if structured is not None:
            result["structuredContent"] = structured
        params = {"name": tool, "arguments": arguments}
        return ToolCallOutcome(
            deployment=name,
            tool=tool,
            is_error=is_error,
            content=content,
            structured=structured,
            elapsed_ms=12.5,
            exchange=_handshake() + _request(2, "tools/call", params, result),
        )


def running(deploys: FakeDeployments, service: str, name: str, **settings: Any) -> None:
    """Deploy ``service`` as ``name`` and let it become healthy."""
    deploys.create(DeploymentCreate(service=service, name=name, **settings))
    for _ in range(deploys.ready_after):
        deploys.get(name)


def _tool_wire(tool: ToolInfo) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": tool.name, "inputSchema": tool.input_schema}
    if tool.title:
        wire["title"] = tool.title
    if tool.description:
        wire["description"] = tool.description
    return wire


def _check(tool: ToolInfo, arguments: dict[str, Any]) -> None:
    schema = tool.input_schema
    properties: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in arguments:
            raise Invalid(
                f"argument {key!r} of {tool.name}: {key!r} is a required property", field=key
            )
    for key, value in arguments.items():
        prop = properties.get(key)
        if prop is None:
            raise Invalid(f"argument {key!r} of {tool.name}: not a property", field=key)
        kinds: dict[str, type | tuple[type, ...]] = {
            "string": str,
            "integer": int,
            "number": (int, float),
            "boolean": bool,
        }
        kind = kinds.get(prop.get("type", ""))
        if kind is not None and not isinstance(value, kind):
            raise Invalid(
                f"argument {key!r} of {tool.name}: {value!r} is not of type {prop['type']!r}",
                field=key,
            )
        if "enum" in prop and value not in prop["enum"]:
            raise Invalid(
                f"argument {key!r} of {tool.name}: {value!r} is not one of {prop['enum']}",
                field=key,
            )
        if "maximum" in prop and value > prop["maximum"]:
            raise Invalid(
                f"argument {key!r} of {tool.name}: {value} is greater than the maximum of "
                f"{prop['maximum']}",
                field=key,
            )


def _answer(
    tool: str, arguments: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, bool]:
    if tool == "forecast":
        place = arguments["place"]
        temperatures = KNOWN_PLACES.get(place)
        if temperatures is None:
            return [{"type": "text", "text": f"unknown place {place!r}"}], None, True
        days = temperatures[: arguments.get("days", 3)]
        text = f"{place}: " + ", ".join(f"{t} °C" for t in days)
        return [{"type": "text", "text": text}], {"place": place, "highs": days}, False
    if tool == "alerts":
        return [{"type": "text", "text": f"No alerts in {arguments['region']}."}], None, False
    rows = "\n".join(KNOWN_PLACES)
    return [{"type": "text", "text": rows}], {"stations": list(KNOWN_PLACES)}, False


def _message(direction: RpcDirection, step: int, payload: dict[str, Any]) -> RpcMessage:
    # Serialised and read back, as if it had crossed the wire.
    wire = json.loads(json.dumps(payload))
    return RpcMessage(direction=direction, at=NOW + timedelta(milliseconds=4 * step), payload=wire)


def _handshake() -> list[RpcMessage]:
    return [
        _message(
            RpcDirection.SENT,
            0,
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": "mcp-console", "version": "0.1.0"},
                },
            },
        ),
        _message(
            RpcDirection.RECEIVED,
            1,
            {
                "jsonrpc": "2.0",
                "id": 0,
                "result": {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
                    "serverInfo": {"name": "weather", "version": "2.1.0"},
                },
            },
        ),
    ]


def _request(step: int, method: str, params: dict[str, Any], result: Any) -> list[RpcMessage]:
    ident = step // 2
    sent = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}
    received = {"jsonrpc": "2.0", "id": ident, "result": result}
    return [
        _message(RpcDirection.SENT, step, sent),
        _message(RpcDirection.RECEIVED, step + 1, received),
    ]
