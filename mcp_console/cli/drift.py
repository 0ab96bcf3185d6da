"""``mcp-console deploy drift|approve``: tool definitions that changed, and approving them."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.schemas.drift import DriftApproval, DriftPolicy, DriftReport

NAME = typer.Argument(..., help="The deployment: NAME (yours) or OWNER/NAME (shared with you).")


def print_report(report: DriftReport) -> None:
    """The baseline, what is held back, and each finding with its diff."""
    since = f"{report.baseline_at:%Y-%m-%d %H:%M:%S}" if report.baseline_at else "not yet"
    typer.echo(
        f"{report.deployment} ({report.version})  policy: {report.policy.value}  "
        f"baseline: {report.definitions} definitions, recorded {since}"
    )
    if report.blocked_tools:
        typer.echo("  held back from clients: " + ", ".join(report.blocked_tools))
    waiting = [f for f in report.findings if f.approved_at is None]
    if not report.findings:
        typer.echo("  no definition differs from the approved ones")
    elif waiting:
        typer.echo(f"  {len(waiting)} waiting for approval ('mcp-console deploy approve')")
    for f in report.findings:
        state = (
            f"approved by {f.approved_by} {f.approved_at:%Y-%m-%d %H:%M:%S}"
            if f.approved_at
            else "waiting"
        )
        typer.echo(
            f"\n{f.change.value:<8} {f.kind.value} {f.name}  "
            f"(found {f.detected_at:%Y-%m-%d %H:%M:%S}, {state})"
        )
        for line in f.diff.splitlines():
            typer.echo(f"  {line}")


def drift(
    name: str = NAME,
    policy: DriftPolicy | None = typer.Option(
        None,
        "--policy",
        help="alert: tell operators when definitions change; block: also hide changed and "
        "new tools from clients (and refuse their calls) until approved.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show tool, prompt and template definitions that differ from the approved ones, with
    their diffs (or set the deployment's --policy)."""
    if policy is None:
        report = run(lambda c: c.drift_report(name))
    else:
        chosen = policy
        report = run(lambda c: c.set_drift_policy(name, chosen))
    emit(report, as_json, lambda: print_report(report))


def approve(
    name: str = NAME,
    names: list[str] = typer.Argument(
        None, help="The tools (prompts, templates) whose listed definitions to approve."
    ),
    everything: bool = typer.Option(False, "--all", help="Approve every waiting finding."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make the definitions the server lists now the approved ones (the gateway stops
    holding those tools back)."""
    with reported_errors():
        approval = validated(DriftApproval, all=everything, names=list(names or []))
    report = run(lambda c: c.approve_drift(name, approval))
    emit(report, as_json, lambda: print_report(report))


def register(app: typer.Typer) -> None:
    """Add ``drift`` and ``approve`` to the ``deploy`` group."""
    app.command()(drift)
    app.command()(approve)
