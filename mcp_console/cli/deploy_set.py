"""``mcp-console deploy set NAME …``: change a deployment's settings in place (a rolling
restart replaces its instances)."""

from __future__ import annotations

from pathlib import Path

import typer

from mcp_console.cli.context import JSON_OPTION, emit, reported_errors, validated
from mcp_console.schemas.deploy import SESSION_MODE_HELP, DeploymentReconfigure, SessionMode
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.secrets import split_refs

SECRET_HELP = " ".join(
    (
        "A secret KEY=VALUE, KEY=@FILE (read from a file), KEY=secret:NAME (one of your",
        "stored secrets, see 'mcp-console secret'), or KEY alone (you are asked for it).",
    )
)


def secret_options(
    items: list[str], option: str = "--secret"
) -> tuple[dict[str, str], dict[str, str]]:
    """``--secret`` options as secret values and references to stored secrets (key → name)."""
    from mcp_console.cli.deploy import _pairs

    given = _pairs(items, option, secret=True)
    for key, value in given.items():
        if value.startswith("@"):
            path = Path(value[1:])
            try:
                given[key] = path.read_text(encoding="utf-8").removesuffix("\n")
            except OSError as error:
                raise Invalid(
                    f"{option} {key}: cannot read {path}: {error.strerror}", field="secrets"
                ) from None
    return split_refs(given)


def set_(
    name: str = typer.Argument(..., help="The deployment: NAME, or OWNER/NAME (admins)."),
    values: list[str] = typer.Option(
        [], "--config", "--set", help="A configuration value KEY=VALUE."
    ),
    secrets: list[str] = typer.Option([], "--secret", help=SECRET_HELP),
    unset: list[str] = typer.Option(
        [], "--unset", help="Remove a configuration value or a secret (its default applies)."
    ),
    cpus: float | None = typer.Option(None, "--cpus", "--cpu", help="CPU limit per instance."),
    memory: int | None = typer.Option(None, "--memory", help="Memory limit per instance, MiB."),
    pass_env: list[str] = typer.Option(
        [],
        "--pass-env",
        help="The host variables its servers receive by name (replaces the list; repeat).",
    ),
    session_mode: SessionMode | None = typer.Option(None, "--session-mode", help=SESSION_MODE_HELP),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; change nothing."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a deployment's configuration, secrets, limits, host variables or session mode
    in place: checked as on create, then its instances are replaced by a rolling restart
    (the old ones serve until the new ones are healthy). The runtime stays as created."""
    from mcp_console.cli.deploy import _pairs, on_daemon

    with reported_errors():
        plain, refs = secret_options(secrets)
        change = validated(
            DeploymentReconfigure,
            config=_pairs(values, "--config"),
            unset=unset,
            secrets=plain,
            secret_refs=refs,
            cpu_limit=cpus,
            memory_limit_mb=memory,
            pass_env=pass_env or None,
            session_mode=session_mode.value if session_mode else None,
            dry_run=dry_run,
        )
    result = on_daemon(lambda c: c.reconfigure_deployment(name, change))

    def show() -> None:
        if not result.changes:
            typer.echo(f"nothing to change: {name} already has these settings")
            return
        for path, (old, new) in result.changes.items():
            typer.echo(f"  {path}: {_shown(old)} → {_shown(new)}")
        if result.dry_run:
            typer.echo("dry run: nothing was changed")
        else:
            typer.echo(f"{name}: settings changed; its instances are being replaced")

    emit(result, as_json, show)


def _shown(value: object) -> str:
    return "(none)" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add ``set`` to the ``deploy`` group."""
    app.command("set")(set_)
