"""``mcp-console billing metering``: how usage reaches the database, and what crashes lost."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, run
from mcp_console.schemas.metering import MeteringState


def register(app: typer.Typer) -> None:
    """Add ``metering`` to the ``billing`` group."""
    app.command("metering")(metering)


def metering(as_json: bool = JSON_OPTION) -> None:
    """Whether metering is durable, the calls not written yet, and the calls each restart
    found served and never written (the backend was killed first). Admins only.

    Examples: ``billing metering``, ``billing metering --json``.
    """
    state = run(lambda client: client.metering_state())
    emit(state, as_json, lambda: _print(state))


def _print(state: MeteringState) -> None:
    how = (
        "durable: each billable call's usage is written before its reply"
        if state.durable
        else "written within a second of each call"
    )
    journal = "counted in the crash journal" if state.journal else "no crash journal here"
    typer.echo(f"Metering: {how}; {journal}; {state.pending_calls} calls not written yet.")
    if not state.losses:
        typer.echo("No calls were lost to a crash.")
        return
    typer.echo(f"Calls served and never billed after crashes: {state.lost_calls}")
    for loss in state.losses:
        started = f"{loss.run_started:%Y-%m-%d %H:%M:%S}" if loss.run_started else "?"
        typer.echo(
            f"  run started {started} UTC, found {loss.found_at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{loss.calls} calls ({loss.failed} failed)"
        )
