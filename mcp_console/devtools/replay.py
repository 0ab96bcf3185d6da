"""Replaying a recording against a server: each request sent again, each answer compared."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mcp import Client, MCPError
from mcp.types import (
    CallToolResult,
    EmptyResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    ReadResourceResult,
)
from pydantic import BaseModel, ValidationError

from mcp_console.backend.deploy.health import describe
from mcp_console.devtools.compare import JsonPath, differences
from mcp_console.devtools.recording import calls
from mcp_console.devtools.targets import ServerTarget, connect
from mcp_console.schemas.errors import Invalid, Unavailable
from mcp_console.schemas.recording import Difference, RecordedCall, Recording, ReplayReport

CLIENT_NAME = "mcp-console-replay"
# How much of a value a report line shows.
SHOWN_CHARS = 200

Send = Callable[[Client, dict[str, Any]], Awaitable[BaseModel]]


def _cursor(params: dict[str, Any]) -> str | None:
    cursor = params.get("cursor")
    return cursor if isinstance(cursor, str) else None


# What each replayable method sends, and the result type its answers are read as (both
# sides alike, so that defaults the SDK fills in never count as a difference).
METHODS: dict[str, tuple[type[BaseModel], Send]] = {
    "tools/list": (ListToolsResult, lambda c, p: c.list_tools(cursor=_cursor(p))),
    "tools/call": (
        CallToolResult,
        lambda c, p: c.call_tool(str(p.get("name", "")), p.get("arguments") or {}),
    ),
    "resources/list": (ListResourcesResult, lambda c, p: c.list_resources(cursor=_cursor(p))),
    "resources/templates/list": (
        ListResourceTemplatesResult,
        lambda c, p: c.list_resource_templates(cursor=_cursor(p)),
    ),
    "resources/read": (ReadResourceResult, lambda c, p: c.read_resource(str(p.get("uri", "")))),
    "prompts/list": (ListPromptsResult, lambda c, p: c.list_prompts(cursor=_cursor(p))),
    "prompts/get": (
        GetPromptResult,
        lambda c, p: c.get_prompt(str(p.get("name", "")), p.get("arguments") or None),
    ),
    "ping": (EmptyResult, lambda c, p: c.send_ping()),
}


def dumped(model: BaseModel) -> dict[str, Any]:
    """A result as it goes over the wire."""
    out: dict[str, Any] = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return out


def recorded_answer(call: RecordedCall) -> dict[str, Any]:
    """The recorded answer to ``call`` as replayed answers are shown: the result read as its
    method's type, or ``{"error": {code, message}}``."""
    if call.error is not None:
        return {"error": {"code": call.error.get("code"), "message": call.error.get("message")}}
    if call.result is None:
        return {"error": {"code": None, "message": "no reply was recorded"}}
    kind = METHODS[call.method][0]
    try:
        return dumped(kind.model_validate(call.result, by_name=False))
    except ValidationError:
        return call.result  # compared as recorded: the replayed side will say how it differs


async def answer(client: Client, call: RecordedCall) -> dict[str, Any]:
    """What the server answers to ``call`` now, shown as ``recorded_answer`` shows it."""
    try:
        return dumped(await METHODS[call.method][1](client, call.params))
    except MCPError as error:
        return {"error": {"code": error.code, "message": error.message}}


def compared(
    call: RecordedCall, replayed: dict[str, Any], ignore: Sequence[JsonPath]
) -> list[Difference]:
    """How ``replayed`` differs from what was recorded for ``call``."""
    return [
        Difference(call=call.title, path=path, recorded=old, replayed=new)
        for path, old, new in differences(recorded_answer(call), replayed, ignore)
    ]


async def replay(
    recording: Recording,
    target: ServerTarget,
    *,
    ignore: Sequence[JsonPath] = (),
    timeout: float = 30.0,  # noqa: ASYNC109
) -> ReplayReport:
    """Send each recorded request to ``target`` in one session; compare every answer.

    Raises:
        Invalid: the recording holds no request to replay.
        Unavailable: ``target`` did not answer as an MCP server.
    """
    started = time.perf_counter()
    recorded = calls(recording)
    replayable = [c for c in recorded if c.method in METHODS]
    skipped = Counter(c.method for c in recorded if c.method not in METHODS)
    if not replayable:
        raise Invalid(
            f"the recording of {recording.header.target} holds no request to replay (only "
            f"{', '.join(sorted(skipped)) or 'the session set-up'})",
            field="recording",
        )
    found: list[Difference] = []
    try:
        async with connect(target, timeout=timeout, client_name=CLIENT_NAME) as client:
            for call in replayable:
                async with asyncio.timeout(timeout * 2):
                    found += compared(call, await answer(client, call), ignore)
    except Exception as exc:
        shown = target.label if target.url else repr(target.label)
        raise Unavailable(f"{shown} did not answer as an MCP server: {describe(exc)}") from None
    return ReplayReport(
        target=target.label,
        replayed=len(replayable),
        skipped=dict(sorted(skipped.items())),
        differences=found,
        elapsed_s=round(time.perf_counter() - started, 3),
    )


def _shown(value: Any) -> str:
    """A value in a report line: JSON, cut short when long (``--json`` has it whole)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 3]}..."


def report_text(report: ReplayReport, source: str) -> str:
    """The report in words: each difference with its path and both values."""
    lines: list[str] = []
    skipped = ", ".join(f"{m} x{n}" for m, n in report.skipped.items())
    note = f" (not replayed: {skipped})" if skipped else ""
    if report.same:
        lines.append(
            f"{report.target} answers as recorded in {source}: "
            f"{report.replayed} call(s) match{note}"
        )
        return "\n".join(lines) + "\n"
    calls_differing = len({d.call for d in report.differences})
    lines.append(
        f"{report.target} answers differently from {source}: {calls_differing} of "
        f"{report.replayed} call(s) differ{note}"
    )
    for call in dict.fromkeys(d.call for d in report.differences):
        lines.append(f"  {call}")
        for d in (d for d in report.differences if d.call == call):
            lines.append(f"    {d.path}: recorded {_shown(d.recorded)}, now {_shown(d.replayed)}")
    return "\n".join(lines) + "\n"
