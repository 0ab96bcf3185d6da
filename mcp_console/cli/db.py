"""``mcp-console db …``: schema migrations."""

from __future__ import annotations

import typer

from mcp_console.backend.db.migrate import downgrade_sync, upgrade_sync
from mcp_console.cli.context import load_settings

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    upgrade_sync(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (``base`` removes every table)."""
    downgrade_sync(load_settings().resolved_database_url, revision)
    typer.echo(f"database at {revision}")
