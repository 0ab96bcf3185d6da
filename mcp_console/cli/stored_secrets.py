"""``mcp-console secret …``: your stored secrets, which deployments reference by name."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.secrets import StoredSecretView

app = typer.Typer(
    help="Store secrets (encrypted) that deployments reference by name: --secret "
    "KEY=secret:NAME, or {secret: NAME} in a spec file.",
    no_args_is_help=True,
)

NAME = typer.Argument(..., help="The secret's name (yours: each user has their own).")


def read_value(from_file: Path | None) -> str:
    """The value from a file, else from standard input (never a command-line argument, which
    the process list and the shell's history would keep); one trailing newline dropped."""
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except OSError as error:
            raise Invalid(f"cannot read {from_file}: {error.strerror}", field="from_file") from None
    elif sys.stdin.isatty():
        text = typer.prompt("value", hide_input=True)
    else:
        text = sys.stdin.read()
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise Invalid("the secret's value is empty", field="value")
    return value


@app.command("set")
def set_(
    name: str = NAME,
    from_file: Path | None = typer.Option(
        None, "--from-file", help="Read the value from this file (default: standard input)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store a secret's value, read from standard input or --from-file (never an argument);
    setting it again replaces the value. Deployments get it when created or applied."""
    with reported_errors():
        value = read_value(from_file)
    view = run(lambda c: c.set_secret(name, value))
    emit(view, as_json, lambda: typer.echo(f"secret {view.name} stored"))


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Your stored secrets: names, owner and when each was set (never a value)."""
    views = run(lambda c: c.list_secrets())
    emit(views, as_json, lambda: _print(views))


@app.command("rm")
def rm(name: str = NAME) -> None:
    """Remove a stored secret (deployments keep the value they were given)."""
    run(lambda c: c.delete_secret(name))
    typer.echo(f"secret {name} removed")


def _print(views: list[StoredSecretView]) -> None:
    if not views:
        typer.echo("no stored secrets")
        return
    typer.echo(f"{'NAME':<32} {'OWNER':<16} UPDATED")
    for view in views:
        typer.echo(f"{view.name:<32} {view.owner:<16} {view.updated_at:%Y-%m-%d %H:%M}")
