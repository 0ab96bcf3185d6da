"""``mcp-console deploy metrics|sessions|session-drain|session-kill|inspect|call``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run
from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.coercion import coerce_or_explain
from mcp_console.schemas.config_schema import is_secret
from mcp_console.schemas.errors import ConsoleError, Invalid
from mcp_console.schemas.monitor import (
    DeploymentMetrics,
    HistorySeries,
    InspectReport,
    MetricsHistory,
    RpcDirection,
    RpcMessage,
    SessionView,
    ToolCallOutcome,
    breakdown_of,
    history_range,
)

T = TypeVar("T")

NAME = typer.Argument(..., help="The deployment: NAME (yours) or OWNER/NAME (shared with you).")
SESSION = typer.Argument(..., help="The session's id (as 'deploy sessions' lists it).")
_BARS = " ▁▂▃▄▅▆▇█"
# The widest sparkline printed: longer series are summed into this many bars.
SPARK_WIDTH = 60


def _on_daemon(action: Callable[[ConsoleClient], Awaitable[T]]) -> T:
    # Imported here: the deploy group imports this module to register its commands.
    from mcp_console.cli.deploy import on_daemon

    return on_daemon(action)


def _ago(at: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - at).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def _spark(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)


def _print_metrics(m: DeploymentMetrics) -> None:
    typer.echo(
        f"{m.deployment}: {m.requests_per_s:.2f} req/s, errors {m.error_rate:.1%}, "
        f"p50 {_ms(m.p50_ms)}, p95 {_ms(m.p95_ms)}, {m.in_flight} in flight "
        f"(last {m.window_s}s)"
    )
    if m.points:
        typer.echo(f"  requests/s |{_spark([p.requests for p in m.points])}|")
    if not m.instances:
        typer.echo("  no running instances (or no gateway serves here)")
        return
    typer.echo(
        f"  {'INSTANCE':<16} {'REQ/S':>7} {'ERRORS':>7} {'FLIGHT':>6} {'CPU':>7} {'MEMORY':>9}"
    )
    for i in m.instances:
        cpu = "-" if i.cpu_percent is None else f"{i.cpu_percent:.1f}%"
        memory = "-" if i.memory_mb is None else f"{i.memory_mb:.1f}MiB"
        typer.echo(
            f"  {i.instance:<16} {i.requests_per_s:>7.2f} {i.error_rate:>7.1%} "
            f"{i.in_flight:>6} {cpu:>7} {memory:>9}"
        )


def _print_sessions(items: list[SessionView]) -> None:
    if not items:
        typer.echo("no sessions")
        return
    typer.echo(
        f"{'ID':<34} {'STATE':<9} {'INSTANCE':<14} {'USER':<12} {'REQS':>5} {'FLIGHT':>6} "
        f"{'IDLE':>5}  CLIENT"
    )
    for s in items:
        typer.echo(
            f"{s.id:<34} {s.state.value:<9} {s.instance or '-':<14} {s.user or '-':<12} "
            f"{s.requests:>5} {s.in_flight:>6} {_ago(s.last_seen):>5}  {s.client or '-'}"
        )


def _print_exchange(report: InspectReport | ToolCallOutcome) -> None:
    _print_messages(report.exchange)


def _print_messages(messages: list[RpcMessage]) -> None:
    for message in messages:
        arrow = "→" if message.direction is RpcDirection.SENT else "←"
        typer.echo(f"{arrow} {json.dumps(message.payload, ensure_ascii=False)}")


async def _showing_exchange(action: Awaitable[T], exchange: bool) -> T:
    """``action``'s result; when it fails and ``exchange`` is asked for, the messages that
    went over the wire before it failed are printed first (the error follows on stderr)."""
    try:
        return await action
    except ConsoleError as error:
        recorded = (error.details or {}).get("exchange") if exchange else None
        if isinstance(recorded, list):
            _print_messages([RpcMessage.model_validate(m) for m in recorded])
        raise


def print_report(r: InspectReport, exchange: bool) -> None:
    server = " ".join(filter(None, [r.server_name, r.server_version])) or "(unnamed server)"
    typer.echo(f"{r.deployment}: {server}, protocol {r.protocol_version or '?'}")
    typer.echo(f"tools ({len(r.tools)}):")
    for tool in r.tools:
        arguments = ", ".join(tool.input_schema.get("properties", {}))
        typer.echo(f"  {tool.name}({arguments})  {tool.description or ''}".rstrip())
    typer.echo(f"resources ({len(r.resources)}):")
    for resource in r.resources:
        typer.echo(f"  {resource.uri}  {resource.description or resource.name}".rstrip())
    typer.echo(f"prompts ({len(r.prompts)}):")
    for prompt in r.prompts:
        typer.echo(f"  {prompt.name}({', '.join(prompt.arguments)})  {prompt.description or ''}")
    if exchange:
        _print_exchange(r)
    else:
        typer.echo(f"({len(r.exchange)} JSON-RPC messages; --exchange shows them)")


def print_outcome(o: ToolCallOutcome, exchange: bool) -> None:
    for block in o.content:
        if block.get("type") == "text":
            typer.echo(block.get("text", ""))
        else:
            typer.echo(json.dumps(block, ensure_ascii=False))
    if o.structured is not None:
        typer.echo(f"structured: {json.dumps(o.structured, ensure_ascii=False)}")
    if exchange:
        _print_exchange(o)


def parse_arguments(
    items: list[str], input_schema: Mapping[str, Any] | None = None, *, tool: str = "the tool"
) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, each VALUE typed as the tool's input schema declares its argument.

    The rule of the console's tool form (``coerce``): ``7`` is a number where the argument
    takes one and text where it takes text; ``yes`` a boolean, ``a,b`` or ``[1,2]`` a list.
    An argument the schema does not declare (or no schema) keeps its text.

    Raises:
        Invalid: an item has no ``=`` or an empty key (``field="arg"``), or a value is not
            what its argument takes (``field`` names the argument).
    """
    declared = (input_schema or {}).get("properties")
    properties: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
    out: dict[str, Any] = {}
    for key, text in _pairs(items):
        found = properties.get(key)
        prop: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        try:
            out[key] = coerce_or_explain(text, prop, secret=is_secret(prop))
        except ValueError as error:
            raise Invalid(f"argument {key!r} of {tool}: {error}", field=key) from None
    return out


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Invalid(f"--arg takes KEY=VALUE, got {item!r}", field="arg")
        pairs.append((key.strip(), value))
    return pairs


async def _typed_call(
    client: ConsoleClient, name: str, tool: str, items: list[str]
) -> ToolCallOutcome:
    """Read the tool's input schema from the server first, to type ``items`` by it."""
    schema = None
    if items:
        listed = (await client.inspect_deployment(name)).tools
        schema = next((t.input_schema for t in listed if t.name == tool), None)
    return await client.call_tool(name, tool, parse_arguments(items, schema, tool=tool))


def _squeezed(values: list[int]) -> list[int]:
    """``values`` summed into at most SPARK_WIDTH bars."""
    per_bar = -(-len(values) // SPARK_WIDTH)
    return [sum(values[i : i + per_bar]) for i in range(0, len(values), per_bar)]


def _print_series_table(title: str, rows: list[HistorySeries]) -> None:
    typer.echo(f"  {title:<24} {'REQUESTS':>9} {'ERRORS':>7} {'P95':>10}")
    for s in rows:
        typer.echo(f"  {s.key[:24]:<24} {s.requests:>9} {s.errors:>7} {_ms(s.p95_ms):>10}")


def _print_history(h: MetricsHistory) -> None:
    total = h.total
    kinds = (
        f"rpc {sum(p.errors_rpc for p in total.points)}, "
        f"http {sum(p.errors_http for p in total.points)}, "
        f"refused {sum(p.errors_refused for p in total.points)}"
    )
    typer.echo(
        f"{h.deployment} over {h.period.value} (a point per {h.step_s}s): "
        f"{total.requests} requests, {total.errors} errors ({kinds}), p95 {_ms(total.p95_ms)}"
    )
    typer.echo(f"  requests |{_spark(_squeezed([p.requests for p in total.points]))}|")
    if h.by is not None:
        _print_series_table(f"BY {h.by.value.upper()}", h.breakdown)
    if h.tools:
        typer.echo(f"  {'TOOL':<24} {'CALLS':>9} {'ERRORS':>7} {'P50':>10} {'P95':>10} {'P99':>10}")
        for t in h.tools:
            typer.echo(
                f"  {t.tool[:24]:<24} {t.calls:>9} {t.errors:>7} {_ms(t.p50_ms):>10} "
                f"{_ms(t.p95_ms):>10} {_ms(t.p99_ms):>10}"
            )


def metrics(
    name: str = NAME,
    period: str | None = typer.Option(
        None, "--range", help="The kept history over 15m, 1h, 24h, 7d or 30d (else: live)."
    ),
    by: str | None = typer.Option(
        None, "--by", help="Split the history by instance, tool or user (over 1h by default)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The last minute of gateway traffic and each instance's CPU and memory now; with
    --range, the kept history and each tool's calls, errors and latency."""
    if period is None and by is None:
        result = run(lambda c: c.deployment_metrics(name))
        emit(result, as_json, lambda: _print_metrics(result))
        return
    with reported_errors():  # a wrong range or breakdown is refused before any backend starts
        chosen = history_range(period or "1h").value
        breakdown_of(by)
    history = run(lambda c: c.metrics_history(name, chosen, by))
    emit(history, as_json, lambda: _print_history(history))


def sessions(name: str = NAME, as_json: bool = JSON_OPTION) -> None:
    """The client sessions the gateway holds for a deployment, newest first."""
    items = run(lambda c: c.list_sessions(name))
    emit(items, as_json, lambda: _print_sessions(items))


def session_drain(name: str = NAME, session_id: str = SESSION, as_json: bool = JSON_OPTION) -> None:
    """Let a session finish what it is doing, then end it."""
    view = run(lambda c: c.drain_session(name, session_id))
    emit(view, as_json, lambda: typer.echo(f"draining session {view.id} of {view.deployment}"))


def session_kill(name: str = NAME, session_id: str = SESSION, as_json: bool = JSON_OPTION) -> None:
    """End a session now; its client must start a new one."""
    run(lambda c: c.kill_session(name, session_id))
    emit({"killed": session_id}, as_json, lambda: typer.echo(f"ended session {session_id}"))


def inspect(
    name: str = NAME,
    exchange: bool = typer.Option(False, "--exchange", help="Print every JSON-RPC message."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Connect through the deployment's endpoint as you; list its tools, resources, prompts."""
    report = _on_daemon(lambda c: _showing_exchange(c.inspect_deployment(name), exchange))
    emit(report, as_json, lambda: print_report(report, exchange))


def call(
    name: str = NAME,
    tool: str = typer.Argument(..., help="The tool to call."),
    args: list[str] = typer.Option(
        [], "--arg", help="An argument KEY=VALUE (VALUE typed as the tool declares it)."
    ),
    exchange: bool = typer.Option(False, "--exchange", help="Print every JSON-RPC message."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Call one tool through the deployment's endpoint; exits 1 if the tool reports an error."""
    with reported_errors():
        _pairs(args)  # a malformed item is refused before a daemon is started for it
    outcome = _on_daemon(lambda c: _showing_exchange(_typed_call(c, name, tool, args), exchange))
    emit(outcome, as_json, lambda: print_outcome(outcome, exchange))
    if outcome.is_error:
        typer.echo(f"error: {tool} reported a failure", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the live commands to the ``deploy`` group."""
    app.command()(metrics)
    app.command()(sessions)
    app.command("session-drain")(session_drain)
    app.command("session-kill")(session_kill)
    app.command()(inspect)
    app.command()(call)
