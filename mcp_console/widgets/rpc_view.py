"""What the inspector shows of a server's answers: a tool call's result, the raw exchange."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mcp_console.schemas.monitor import InspectReport, RpcDirection, RpcMessage, ToolCallOutcome

_MAX_INLINE_BYTES = 64


def pretty_json(value: Any) -> RenderableType:
    """``value`` as indented, highlighted JSON."""
    return JSON(json.dumps(value, ensure_ascii=False, default=str), indent=2)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def server_line(report: InspectReport) -> Text:
    """Who answered and what it offers, in one line."""
    line = Text()
    line.append(report.server_name or "(unnamed server)", style="bold")
    if report.server_version:
        line.append(f" {report.server_version}")
    offers = (
        _plural(len(report.tools), "tool"),
        _plural(len(report.resources), "resource"),
        _plural(len(report.prompts), "prompt"),
    )
    line.append(f" · protocol {report.protocol_version or 'unknown'} · {', '.join(offers)}")
    return line


def listing(rows: list[tuple[str, ...]], headers: tuple[str, ...], empty: str) -> RenderableType:
    """``rows`` as a table under ``headers``, or ``empty`` when there are none."""
    if not rows:
        return Text(empty, style="dim")
    table = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _what(payload: dict[str, Any]) -> str:
    """A JSON-RPC message in a few words: its method, or what it answers."""
    if "method" in payload:
        kind = "request" if "id" in payload else "notification"
        return f"{kind} {payload['method']}"
    if "error" in payload:
        return f"error for #{payload.get('id')}"
    return f"result for #{payload.get('id')}"


def exchange_renderable(messages: list[RpcMessage], caption: str) -> RenderableType:
    """Each message marked sent or received, with its time after the first, as JSON."""
    if not messages:
        return Text("No messages yet: pick a deployment to inspect.", style="dim")
    parts: list[RenderableType] = [Text(f"{caption}: {len(messages)} message(s)", style="bold")]
    start = messages[0].at
    for message in messages:
        sent = message.direction is RpcDirection.SENT
        head = Text()
        head.append(
            "→ sent    " if sent else "← received", style="bold cyan" if sent else "bold green"
        )
        elapsed = (message.at - start).total_seconds() * 1000
        head.append(f"  +{elapsed:.0f} ms  ", style="dim")
        head.append(_what(message.payload), style="italic")
        parts += [Text(""), head, pretty_json(message.payload)]
    return Group(*parts)


def _content_item(item: dict[str, Any], is_error: bool) -> RenderableType:
    kind = item.get("type")
    if kind == "text" and isinstance(item.get("text"), str):
        return Text(item["text"], style="red" if is_error else "")
    if kind in ("image", "audio"):
        size = len(str(item.get("data", ""))) * 3 // 4
        return Text(f"[{kind} {item.get('mimeType', '?')}, {size:,} bytes]", style="italic")
    if kind == "resource_link":
        return Text(
            f"[link {item.get('uri', '?')}] {item.get('name', '')}".rstrip(), style="italic"
        )
    if kind == "resource" and isinstance(item.get("resource"), dict):
        resource = item["resource"]
        text = resource.get("text")
        head = Text(f"[resource {resource.get('uri', '?')}]", style="italic")
        return Group(head, Text(text)) if isinstance(text, str) else head
    return pretty_json(item)


def result_renderable(outcome: ToolCallOutcome) -> RenderableType:
    """A tool call's answer: whether it failed (in words and red), its content, its data."""
    if outcome.is_error:
        head = Text(
            f"✗ {outcome.tool} reported an error ({outcome.elapsed_ms:.0f} ms)", style="bold red"
        )
    else:
        head = Text(f"✓ {outcome.tool} answered in {outcome.elapsed_ms:.0f} ms", style="bold green")
    parts: list[RenderableType] = [head]
    if outcome.content:
        parts.append(Text("Content", style="bold underline"))
        parts += [_content_item(item, outcome.is_error) for item in outcome.content]
    if outcome.structured is not None:
        parts.append(Text("Structured content", style="bold underline"))
        parts.append(pretty_json(outcome.structured))
    if not outcome.content and outcome.structured is None:
        parts.append(Text("(no content)", style="dim"))
    parts.append(Text("x shows the raw JSON-RPC exchange.", style="dim italic"))
    return Group(*parts)


class ExchangeView(Static):
    """The raw JSON-RPC messages of the last inspection or call."""

    def show(self, messages: list[RpcMessage], caption: str) -> None:
        """Show ``messages`` under ``caption`` (what they were for)."""
        self.update(exchange_renderable(messages, caption))


class ToolResult(Static):
    """A tool call's answer, or where the call is."""

    DEFAULT_CSS = """
    ToolResult {
        height: auto;
        margin-top: 1;
    }
    """

    def show(self, outcome: ToolCallOutcome) -> None:
        """Show the answer of a call."""
        self.update(result_renderable(outcome))

    def waiting(self, tool: str) -> None:
        """Say that ``tool`` is being called."""
        self.update(Text(f"Calling {tool}…", style="italic"))

    def failed(self, reason: str) -> None:
        """Say that the call did not get an answer, and why."""
        self.update(Text(f"✗ {reason}", style="bold red"))

    def clear(self) -> None:
        """Show nothing."""
        self.update("")
