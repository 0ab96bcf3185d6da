"""``mcp-console deploy share|unshare``: who besides its owner may use a deployment."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run
from mcp_console.schemas.deploy import Access, DeploymentDetail, ShareCreate, ShareRole
from mcp_console.schemas.errors import Invalid

NAME = typer.Argument(..., help="The deployment: NAME, or OWNER/NAME for an admin.")
USER = typer.Option(None, "--user", "-u", help="A user to share with.")
TEAM = typer.Option(None, "--team", "-t", help="A team to share with (all its members).")


def grantee(user: str | None, team: str | None) -> tuple[str | None, str | None]:
    """The one user or team a command names.

    Raises:
        Invalid: both are given, or neither.
    """
    if user is not None and team is not None:
        raise Invalid("give --user or --team, not both", field="user")
    if user is None and team is None:
        raise Invalid("say with whom: --user USER or --team TEAM", field="user")
    return user, team


def _who(user: str | None, team: str | None) -> str:
    return f"user {user}" if user is not None else f"team {team}"


def print_access(d: DeploymentDetail) -> None:
    """Who may use the deployment: its owner, the admins, and those it is shared with."""
    typer.echo(f"  access: {d.owner} (owner) and the admins" + (", and:" if d.shares else ""))
    for s in d.shares:
        typer.echo(f"    {s.kind} {s.name:<24} {s.role.value}")
    if d.access is not Access.OWNER:
        typer.echo(f"  you: {d.access.value} (address it as {d.address})")


def share(
    name: str = NAME,
    user: str | None = USER,
    team: str | None = TEAM,
    role: ShareRole = typer.Option(
        ShareRole.CALLER,
        "--role",
        help="caller: may use its endpoint; operator: may also scale, update, roll back, "
        "stop, start and read its logs.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Share a deployment with a user or a team (sharing again changes the role)."""
    with reported_errors():
        user, team = grantee(user, team)
    detail = run(lambda c: c.share_deployment(name, ShareCreate(user=user, team=team, role=role)))

    def human() -> None:
        typer.echo(f"shared {detail.address} with {_who(user, team)} as {role.value}")
        print_access(detail)

    emit(detail, as_json, human)


def unshare(
    name: str = NAME,
    user: str | None = USER,
    team: str | None = TEAM,
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop sharing a deployment with a user or a team (their next request is refused)."""
    with reported_errors():
        user, team = grantee(user, team)
    detail = run(lambda c: c.unshare_deployment(name, user=user, team=team))

    def human() -> None:
        typer.echo(f"{detail.address} is no longer shared with {_who(user, team)}")
        print_access(detail)

    emit(detail, as_json, human)


def register(app: typer.Typer) -> None:
    """Add the sharing commands to the ``deploy`` group."""
    app.command()(share)
    app.command()(unshare)
