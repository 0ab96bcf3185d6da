"""``mcp-console team …``: teams of users, to share deployments with many at once."""

from __future__ import annotations

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, run, validated
from mcp_console.schemas.users import TeamCreate, TeamRole, TeamView

app = typer.Typer(
    help="Manage teams: deployments shared with a team reach its members.", no_args_is_help=True
)

TEAM = typer.Argument(..., help="The team's name.")
USER = typer.Argument(..., help="The user's name.")


def _print_team(team: TeamView) -> None:
    typer.echo(f"{team.name}" + (f" - {team.description}" if team.description else ""))
    for member in team.members:
        typer.echo(f"  {member.user:<30} {member.role.value}")


@app.command()
def create(
    name: str = TEAM,
    description: str = typer.Option("", "--description", "-d", help="What the team is for."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a team; you become its first maintainer."""
    with reported_errors():
        new = validated(TeamCreate, name=name, description=description)
    team = run(lambda c: c.create_team(new))
    emit(team, as_json, lambda: typer.echo(f"created team {team.name}; you maintain it"))


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Your teams (an admin sees every team)."""
    teams = run(lambda c: c.list_teams())

    def human() -> None:
        if not teams:
            typer.echo("no teams")
            return
        typer.echo(f"{'NAME':<24} {'MEMBERS':>7}  DESCRIPTION")
        for t in teams:
            typer.echo(f"{t.name:<24} {len(t.members):>7}  {t.description}")

    emit(teams, as_json, human)


@app.command()
def show(name: str = TEAM, as_json: bool = JSON_OPTION) -> None:
    """A team and its members with their roles."""
    team = run(lambda c: c.get_team(name))
    emit(team, as_json, lambda: _print_team(team))


@app.command()
def delete(name: str = TEAM, as_json: bool = JSON_OPTION) -> None:
    """Delete a team; what was shared with it is no longer (maintainers and admins)."""
    run(lambda c: c.delete_team(name))
    emit({"deleted": name}, as_json, lambda: typer.echo(f"deleted team {name}"))


@app.command()
def add(
    team: str = TEAM,
    user: str = USER,
    role: TeamRole = typer.Option(
        TeamRole.MEMBER, "--role", help="member, or maintainer (adds and removes members)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user to a team, or change their role in it."""
    view = run(lambda c: c.add_team_member(team, user, role))
    emit(view, as_json, lambda: _print_team(view))


@app.command()
def remove(team: str = TEAM, user: str = USER, as_json: bool = JSON_OPTION) -> None:
    """Take a user out of a team (you may always leave a team yourself)."""
    view = run(lambda c: c.remove_team_member(team, user))
    emit(view, as_json, lambda: _print_team(view))
