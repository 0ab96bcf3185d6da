"""``mcp-console apply -f FILE`` and ``deploy export``: deployments as YAML documents."""

from __future__ import annotations

from pathlib import Path

import typer

from mcp_console.cli.context import reported_errors, run
from mcp_console.client.protocol import ConsoleClient
from mcp_console.devtools.spec.checks import checked
from mcp_console.devtools.spec.export import dump, spec_of
from mcp_console.devtools.spec.plan import Step, carry_out, plan
from mcp_console.devtools.spec.source import read_documents
from mcp_console.schemas.errors import ConsoleError

FILE = typer.Option(
    ...,
    "--file",
    "-f",
    help="The YAML file of deployments (several documents separated by ---).",
)
DRY_RUN = typer.Option(False, "--dry-run", help="Show what would change; change nothing.")
PROFILE = typer.Option(
    None,
    "--profile",
    "-p",
    help="Take each document's values from its profiles.NAME where it has one.",
)


def apply(file: Path = FILE, dry_run: bool = DRY_RUN, profile: str | None = PROFILE) -> None:
    """Create or update deployments to match a spec file, showing what changes first
    (field: old → new); the same file applied again changes nothing."""
    with reported_errors():
        # Every document is read and checked before the console is asked anything.
        documents = [(document, checked(document)) for document in read_documents(file, profile)]

    # Read on whatever backend answers; a daemon is started only to make changes, which
    # deployments need a backend that stays up for.
    steps = run(lambda client: plan(client, documents))
    for step in steps:
        _print_step(step)
    if all(step.action == "unchanged" for step in steps):
        typer.echo(f"nothing to change: every deployment matches {file}")
        return
    if dry_run:
        typer.echo("dry run: nothing was changed")
        return

    async def converge(client: ConsoleClient) -> list[str]:
        done: list[str] = []
        for step in steps:
            try:
                await carry_out(client, step)
            except ConsoleError as error:
                if done:
                    error.message += f" (applied before it: {', '.join(done)})"
                raise
            if step.action != "unchanged":
                done.append(f"{step.spec.name} {step.action}d")
        return done

    from mcp_console.cli.deploy import on_daemon

    typer.echo("applied: " + ", ".join(on_daemon(converge)))


def _print_step(step: Step) -> None:
    spec = step.spec
    typer.echo(f"{spec.name} ({spec.service}): {step.action}")
    for change in step.changes:
        if change.old is None:
            typer.echo(f"  + {change.path}: {change.new}")
        else:
            typer.echo(f"  {change.path}: {change.old} → {change.new}")


def export(
    names: list[str] = typer.Argument(..., help="The deployments to write down (NAME …)."),
) -> None:
    """Write deployments down as YAML documents that 'apply -f' takes back unchanged
    (secrets as references to the values the console stores, never the values)."""

    async def documents(client: ConsoleClient) -> str:
        written = []
        for name in names:
            detail = await client.get_deployment(name)
            drift = await client.drift_report(name)
            written.append(spec_of(detail, drift.policy))
        return dump(written)

    typer.echo(run(documents), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``export`` to the ``deploy`` group."""
    app.command()(export)
