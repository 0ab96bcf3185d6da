"""Inspecting any MCP server: list what it offers or call one tool, the session recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from mcp import Client, MCPError
from mcp.types import CallToolResult

from mcp_console.backend.monitor.inspector_session import (
    Exchange,
    check_arguments,
    list_prompts,
    list_resources,
    list_tools,
    outcome_of,
    session_failed,
    timed_call,
    tool_info,
)
from mcp_console.devtools.recording import from_exchange, header_for
from mcp_console.devtools.targets import ServerTarget, connect
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.recording import Recording, RecordingHeader

CLIENT_NAME = "mcp-console-inspect"
# A recorded session keeps every message (the inspector's own view keeps its first 1,000).
RECORD_LIMIT = 10_000_000

# Types a tool's KEY=VALUE arguments by its input schema, once the server has listed it.
ArgumentReader = Callable[[Mapping[str, Any] | None], dict[str, Any]]


class Session:
    """One session's exchange and the recording it makes."""

    def __init__(self, target: ServerTarget, errlog: TextIO | None = None) -> None:
        self.target = target
        self.errlog = errlog  # where a stdio server's stderr goes (None: this process's)
        self.exchange = Exchange(limit=RECORD_LIMIT)
        self.started_at = datetime.now(UTC)
        self.header: RecordingHeader | None = None

    def recording(self) -> Recording:
        """Everything that went over the wire, timed from the session's start."""
        header = self.header or RecordingHeader(
            target=self.target.label,
            command=list(self.target.command) or None,
            started_at=self.started_at,
        )
        return from_exchange(header, self.exchange.messages)


@asynccontextmanager
async def recorded_client(session: Session, *, timeout: float) -> AsyncIterator[Client]:  # noqa: ASYNC109
    """An open SDK client session with ``session``'s server, every message recorded."""
    async with connect(
        session.target,
        timeout=timeout,
        exchange=session.exchange,
        client_name=CLIENT_NAME,
        errlog=session.errlog,
    ) as client:
        session.header = header_for(session.target, session.started_at, client)
        yield client


async def inspect(session: Session, *, timeout: float) -> InspectReport:  # noqa: ASYNC109
    """List the tools, resources and prompts of ``session``'s server.

    Raises:
        Unavailable: it did not answer as an MCP server in time.
    """
    target = session.target
    try:
        async with asyncio.timeout(timeout * 2):
            async with recorded_client(session, timeout=timeout) as client:
                tools = [tool_info(t) for t in await list_tools(client)]
                resources = await list_resources(client)
                prompts = await list_prompts(client)
    except Exception as exc:
        raise session_failed(target.label, exc, session.exchange) from None
    header = session.recording().header
    return InspectReport(
        deployment=target.label,
        server_name=header.server_name,
        server_version=header.server_version,
        protocol_version=header.protocol_version,
        tools=tools,
        resources=resources,
        prompts=prompts,
        exchange=session.exchange.messages,
    )


async def call(
    session: Session,
    tool: str,
    arguments: ArgumentReader,
    *,
    timeout: float,  # noqa: ASYNC109
) -> ToolCallOutcome:
    """Call ``tool`` of ``session``'s server, its arguments typed by the schema it lists.

    Raises:
        Invalid: no such tool, or an argument does not fit its schema.
        Unavailable: the server did not answer as an MCP server in time.
    """
    target = session.target
    problem: Invalid | None = None
    result: CallToolResult | MCPError | None = None
    elapsed_ms = 0.0
    try:
        async with asyncio.timeout(timeout * 2):
            async with recorded_client(session, timeout=timeout) as client:
                tools = await list_tools(client)
                schema = next((t.input_schema for t in tools if t.name == tool), None)
                try:
                    given = arguments(schema)
                except Invalid as wrong:
                    problem = wrong
                else:
                    problem = check_arguments(tools, tool, given)
                if problem is None:
                    result, elapsed_ms = await timed_call(client, tool, given)
    except Exception as exc:
        raise session_failed(target.label, exc, session.exchange) from None
    if problem is not None:
        raise problem
    assert result is not None
    return outcome_of(target.label, tool, result, elapsed_ms, session.exchange)
