"""``mcp-console user …``: users and their API keys."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, run
from mcp_console.schemas.users import Role, UserCreate

app = typer.Typer(help="Manage users and API keys.", no_args_is_help=True)


@app.command()
def create(
    name: str,
    role: Role = typer.Option(Role.USER, "--role", help="admin, author or user."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user and print its API key (shown only this once)."""
    created = run(lambda c: c.create_user(UserCreate(name=name, role=role)))

    def human() -> None:
        typer.echo(f"created {created.user.role.value} {created.user.name}")
        typer.echo(f"API key (store it now; it cannot be shown again): {created.api_key}")

    emit(created, as_json, human)


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every user (admins only)."""
    users = run(lambda c: c.list_users())

    def human() -> None:
        for u in users:
            typer.echo(f"{u.name:<30} {u.role.value:<8} {u.created_at:%Y-%m-%d}")

    emit(users, as_json, human)
