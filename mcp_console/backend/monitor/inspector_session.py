"""The inspector's MCP client session through an endpoint, every JSON-RPC message recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.validators import validator_for
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage
from mcp.types import REQUEST_TIMEOUT, CallToolResult, Implementation, Tool

from mcp_console import __version__
from mcp_console.backend.deploy.health import describe
from mcp_console.backend.gateway.exchange import FORBIDDEN, QUOTA_EXCEEDED
from mcp_console.backend.monitor.inspector_explain import innermost, nonconforming, spoken_version
from mcp_console.devtools.docs.listing import list_definitions
from mcp_console.schemas.errors import ConsoleError, Forbidden, Invalid, Unavailable
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

CLIENT_NAME = "mcp-console-inspector"
# A listing that never ends (a paginating bug) must not hang the inspector.
MAX_PAGES = 50
# What a long session keeps of its exchange: enough to read, bounded in memory.
MAX_MESSAGES = 1000

Transport = AbstractAsyncContextManager[tuple[Any, Any]]


class Exchange:
    """The JSON-RPC messages of one session, in the order they went over the wire."""

    def __init__(self, limit: int = MAX_MESSAGES) -> None:
        self.messages: list[RpcMessage] = []
        self.limit = limit

    def record(self, direction: RpcDirection, item: object) -> None:
        """Keep ``item`` if it is a message (transport errors are not on the wire)."""
        if isinstance(item, SessionMessage) and len(self.messages) < self.limit:
            payload = item.message.model_dump(by_alias=True, mode="json", exclude_none=True)
            self.messages.append(
                RpcMessage(direction=direction, at=datetime.now(UTC), payload=payload)
            )


class _Tap:
    """One of a transport's streams, noting the messages that pass into ``exchange``."""

    def __init__(self, inner: Any, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        result: bool | None = await self._inner.__aexit__(exc_type, exc, tb)
        return result


class _ReadTap(_Tap):
    """A transport's read stream that notes each message as it is taken."""

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        item = await self._inner.receive()
        self._exchange.record(RpcDirection.RECEIVED, item)
        return item

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        self._exchange.record(RpcDirection.RECEIVED, item)
        return item


class _WriteTap(_Tap):
    """A transport's write stream that notes each message as it is sent."""

    async def send(self, item: Any, /) -> None:
        self._exchange.record(RpcDirection.SENT, item)
        await self._inner.send(item)


class RecordingTransport:
    """An MCP client transport whose streams note every message into ``exchange``."""

    def __init__(self, inner: Transport, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    async def __aenter__(self) -> tuple[_ReadTap, _WriteTap]:
        read, write = await self._inner.__aenter__()
        return _ReadTap(read, self._exchange), _WriteTap(write, self._exchange)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self._inner.__aexit__(exc_type, exc, tb)


@asynccontextmanager
async def connected(
    url: str, key: str, exchange: Exchange, *, read_timeout: float, legacy: bool = False
) -> AsyncIterator[Client]:
    """An SDK client session at ``url`` authenticated by ``key``, recorded into ``exchange``.

    Args:
        url: the deployment's gateway endpoint.
        key: the bearer key (sent only in the Authorization header).
        exchange: where every message goes.
        read_timeout: seconds any one request may take.
        legacy: use the initialize handshake (per-session deployments serve only that).
    """
    headers = {"Authorization": f"Bearer {key}"}
    # Building a client loads the CA bundle (a tenth of a second or more): off the loop.
    http = await asyncio.to_thread(httpx2.AsyncClient, headers=headers, timeout=read_timeout)
    async with http:
        transport = RecordingTransport(streamable_http_client(url, http_client=http), exchange)
        client = Client(
            transport,
            mode="legacy" if legacy else "auto",
            read_timeout_seconds=read_timeout,
            client_info=Implementation(name=CLIENT_NAME, version=__version__),
            cache=None,  # an inspector shows what the server says now
        )
        async with client:
            yield client


async def _pages(fetch: Callable[[str | None], Awaitable[Any]], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await fetch(cursor)
        items += getattr(page, field)
        cursor = page.next_cursor
        if not cursor:
            break
    return items


async def list_tools(client: Client) -> list[Tool]:
    """Every tool the server lists, all pages."""
    return await _pages(lambda c: client.list_tools(cursor=c), "tools")


async def list_resources(client: Client) -> list[ResourceInfo]:
    """Every resource the server lists, if it offers resources."""
    if client.server_capabilities.resources is None:
        return []
    found = await _pages(lambda c: client.list_resources(cursor=c), "resources")
    return [
        ResourceInfo(uri=str(r.uri), name=r.name, description=r.description, mime_type=r.mime_type)
        for r in found
    ]


async def list_prompts(client: Client) -> list[PromptInfo]:
    """Every prompt the server lists, if it offers prompts."""
    if client.server_capabilities.prompts is None:
        return []
    found = await _pages(lambda c: client.list_prompts(cursor=c), "prompts")
    return [
        PromptInfo(
            name=p.name,
            description=p.description,
            arguments=[a.name for a in p.arguments or ()],
        )
        for p in found
    ]


def tool_info(tool: Tool) -> ToolInfo:
    """The DTO of a listed tool."""
    return ToolInfo(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=dict(tool.input_schema),
    )


def check_arguments(tools: list[Tool], name: str, arguments: dict[str, Any]) -> Invalid | None:
    """Why ``arguments`` do not fit the tool's input schema, or ``None`` when they do.

    Returns ``Invalid`` with ``field="tool"`` for a tool the server does not list, and
    ``field=<argument>`` for the first argument that is wrong or missing.
    """
    tool = next((t for t in tools if t.name == name), None)
    if tool is None:
        offered = ", ".join(sorted(t.name for t in tools)) or "none"
        return Invalid(f"there is no tool {name!r} (tools: {offered})", field="tool")
    schema = dict(tool.input_schema)
    try:
        cls = validator_for(schema, default=Draft202012Validator)
        cls.check_schema(schema)
    except SchemaError:
        return None  # the server's own schema is broken: let the server judge the call
    error = best_match(cls(schema).iter_errors(arguments))
    if error is None:
        return None
    field = _argument_of(error)
    return Invalid(f"argument {field!r} of {name}: {error.message}", field=field)


def _argument_of(error: ValidationError) -> str:
    """The argument a schema error is about."""
    if error.absolute_path:
        return str(error.absolute_path[0])
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [p for p in error.validator_value if p not in instance]
        if missing:
            return str(missing[0])
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [p for p in instance if p not in allowed]
        if extra:
            return str(extra[0])
    return "arguments"


def session_failed(deployment: str, exc: BaseException, exchange: Exchange) -> ConsoleError:
    """The error to report when the session failed before its work was done: why, in
    words (a reply that breaks the protocol is named field by field), with the exchange
    so far as its details."""
    inner = innermost(exc)
    details = {
        "exchange": [m.model_dump(mode="json") for m in exchange.messages],
        "protocol_version": spoken_version(exchange.messages),
    }
    if isinstance(inner, TimeoutError):
        return Unavailable(
            f"{deployment} did not answer in time through its endpoint", details=details
        )
    if isinstance(inner, MCPError) and inner.code in (FORBIDDEN, QUOTA_EXCEEDED):
        return Forbidden(
            f"the gateway refused the call to {deployment}: {inner.message}", details=details
        )
    broken = nonconforming(inner, exchange.messages)
    if broken is not None:
        return Unavailable(f"{deployment}: {broken}", details=details)
    return Unavailable(
        f"{deployment} did not answer through its endpoint: {describe(exc)}", details=details
    )


@asynccontextmanager
async def _listing(
    deployment: str, url: str, key: str, *, legacy: bool, read_timeout: float
) -> AsyncIterator[tuple[Client, Exchange]]:
    """A session at ``url`` to list what the server offers, and its exchange; a failure
    inside is reported as ``_failed`` words it."""
    exchange = Exchange()
    try:
        async with asyncio.timeout(read_timeout * 2):
            async with connected(
                url, key, exchange, read_timeout=read_timeout, legacy=legacy
            ) as client:
                yield client, exchange
    except Exception as exc:
        raise session_failed(deployment, exc, exchange) from None


async def run_inspect(
    deployment: str, url: str, key: str, *, legacy: bool, read_timeout: float
) -> InspectReport:
    """Open a session at ``url`` and list everything the server offers.

    Raises:
        Forbidden: the gateway refused the caller (not shared, over quota).
        Unavailable: the session could not be opened or a listing failed.
    """
    async with _listing(deployment, url, key, legacy=legacy, read_timeout=read_timeout) as (
        client,
        exchange,
    ):
        server = client.server_info
        protocol = client.protocol_version
        tools = [tool_info(t) for t in await list_tools(client)]
        resources = await list_resources(client)
        prompts = await list_prompts(client)
    return InspectReport(
        deployment=deployment,
        server_name=server.name if server else None,
        server_version=server.version if server else None,
        protocol_version=protocol,
        tools=tools,
        resources=resources,
        prompts=prompts,
        exchange=exchange.messages,
    )


async def run_definitions(
    deployment: str, url: str, key: str, *, legacy: bool, read_timeout: float
) -> ServerDefinitions:
    """Open a session at ``url`` and read every definition the server lists.

    Raises:
        Forbidden: the gateway refused the caller (not shared, over quota).
        Unavailable: the session could not be opened or a listing failed.
    """
    async with _listing(deployment, url, key, legacy=legacy, read_timeout=read_timeout) as (
        client,
        _,
    ):
        return await list_definitions(client)


async def run_call(
    deployment: str,
    url: str,
    key: str,
    tool: str,
    arguments: dict[str, Any],
    *,
    legacy: bool,
    read_timeout: float,
    call_timeout: float,
) -> ToolCallOutcome:
    """Open a session at ``url``, check ``arguments`` against the tool's schema, call it.

    Raises:
        Invalid: no such tool (``field="tool"``), or an argument is wrong (``field`` names it).
        Forbidden: the gateway refused the caller (not shared, over quota).
        Unavailable: the session could not be opened, or no answer came in time.
    """
    exchange = Exchange()
    problem: Invalid | None = None
    result: CallToolResult | MCPError | None = None
    elapsed_ms = 0.0
    try:
        async with asyncio.timeout(read_timeout + call_timeout):
            async with connected(
                url, key, exchange, read_timeout=read_timeout, legacy=legacy
            ) as client:
                problem = check_arguments(await list_tools(client), tool, arguments)
                if problem is None:
                    result, elapsed_ms = await timed_call(client, tool, arguments, call_timeout)
    except Exception as exc:
        raise session_failed(deployment, exc, exchange) from None
    if problem is not None:
        raise problem
    assert result is not None
    return outcome_of(deployment, tool, result, elapsed_ms, exchange)


async def timed_call(
    client: Client, tool: str, arguments: dict[str, Any], read_timeout: float | None = None
) -> tuple[CallToolResult | MCPError, float]:
    """``tool``'s answer (or the server's refusal, a failed call to show) and its milliseconds.

    Raises:
        MCPError: the call timed out (the session failed, not the call).
    """
    started = time.perf_counter()
    try:
        result: CallToolResult | MCPError = await client.call_tool(
            tool, arguments, read_timeout_seconds=read_timeout
        )
    except MCPError as error:
        if error.code == REQUEST_TIMEOUT:
            raise
        result = error
    return result, (time.perf_counter() - started) * 1000


def outcome_of(
    deployment: str,
    tool: str,
    result: CallToolResult | MCPError,
    elapsed_ms: float,
    exchange: Exchange,
) -> ToolCallOutcome:
    """A tool call's outcome as the inspector shows it (a refused call is a failed one)."""
    if isinstance(result, MCPError):
        text = f"error {result.code}: {result.message}"
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        return ToolCallOutcome(
            deployment=deployment,
            tool=tool,
            is_error=True,
            content=content,
            structured=None,
            elapsed_ms=elapsed_ms,
            exchange=exchange.messages,
        )
    structured = result.structured_content
    return ToolCallOutcome(
        deployment=deployment,
        tool=tool,
        is_error=bool(result.is_error),
        content=[_dumped(block) for block in result.content],
        # The SDK wraps a plain value as {"result": value}; a bare one is shown the same way.
        structured=structured
        if isinstance(structured, dict) or structured is None
        else {"result": structured},
        elapsed_ms=elapsed_ms,
        exchange=exchange.messages,
    )


def _dumped(block: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = block.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped
