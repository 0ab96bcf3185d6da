"""The command line: the composition root that knows every layer."""

from __future__ import annotations

import asyncio

import typer

from mcp_console.cli import catalog, connect, daemon, db, deploy, reviews, users
from mcp_console.cli.context import load_settings, reported_errors

app = typer.Typer(
    name="mcp-console",
    help="A marketplace and operations console for MCP servers.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(reviews.app, name="review")
app.add_typer(users.app, name="user")
app.add_typer(db.app, name="db")
app.add_typer(daemon.app, name="daemon")
app.add_typer(deploy.app, name="deploy")
app.command("connect")(connect.connect)


@app.callback(invoke_without_command=True)
def console(ctx: typer.Context) -> None:
    """With no command, start the terminal console on the embedded backend."""
    if ctx.invoked_subcommand is not None:
        return
    from mcp_console.cli.tui import run_console  # Textual loads only when the TUI runs

    with reported_errors():
        asyncio.run(run_console(load_settings()))


def main() -> None:
    """The ``mcp-console`` console script."""
    app()
