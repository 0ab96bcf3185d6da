"""Run Alembic migrations from code (``db upgrade`` and the backend's start)."""

from __future__ import annotations

import ast
import asyncio
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_console.backend.db.snapshot import load_snapshot

# Alembic loads only when the schema must change: a backend starting on a database that is
# up to date (every start but the first after an upgrade) finds that out with one query.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
# Where Alembic records a database's revisions (its default name, which env.py keeps).
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    """An Alembic config pointed at our migrations and at ``url``."""
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (blocking; runs its own event loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade_sync(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade from async code: in a worker thread, which gets its own event loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)


async def upgrade_if_behind(engine: AsyncEngine, url: str) -> bool:
    """Upgrade the database behind ``engine`` (at ``url``) to the head revision, unless it
    is there already; a new SQLite file gets the head schema from its snapshot.

    Returns:
        Whether the schema changed.
    """
    async with engine.connect() as connection:
        if await connection.run_sync(_at_head):
            return False
        new_sqlite_file = await connection.run_sync(_new_sqlite_file, url)
    behind = True
    if new_sqlite_file is not None:
        # A new SQLite database gets the head schema in one script; if a migration came
        # after the snapshot was written, Alembic takes it from the snapshot's revision.
        await asyncio.to_thread(load_snapshot, new_sqlite_file)
        async with engine.connect() as connection:
            behind = not await connection.run_sync(_at_head)
    if behind:
        await upgrade(url)
    # No connection opened before the schema changed is handed out again.
    await engine.dispose()
    return True


def _at_head(connection: Connection) -> bool:
    if not inspect(connection).has_table(VERSION_TABLE):
        return False
    stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(stamped) == head_revisions()


def _new_sqlite_file(connection: Connection, url: str) -> str | None:
    """The path of the SQLite file behind ``connection`` if it holds nothing yet."""
    parsed = make_url(url)
    database = parsed.database
    # In memory, or a URI the driver interprets: left to Alembic, on the engine's own terms.
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if "uri" in parsed.query:
        return None
    if connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one():
        return None
    return database


@cache
def head_revisions() -> frozenset[str]:
    """The revisions no migration builds on, as Alembic would find them.

    Read from each migration's ``revision`` and ``down_revision`` lines without running
    the migrations' code (or importing Alembic).
    """
    revisions: set[str] = set()
    below: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        values = _assignments(path.read_text(encoding="utf-8"))
        revision = values.get("revision")
        if isinstance(revision, str):
            revisions.add(revision)
        down = values.get("down_revision")  # None, a revision, or those a merge joins
        if isinstance(down, str):
            below.add(down)
        elif isinstance(down, tuple | list):
            below.update(str(d) for d in down)
    return frozenset(revisions - below)


def _assignments(source: str) -> dict[str, object]:
    """The literal values assigned to ``revision`` and ``down_revision`` at the top level
    of a migration (``revision: str = "0002"``, as Alembic writes them)."""
    values: dict[str, object] = {}
    for line in source.splitlines():
        if not line.startswith(("revision", "down_revision")):
            continue
        target, equals, value = line.partition("=")
        name = target.partition(":")[0].strip()
        if equals and name in ("revision", "down_revision"):
            values[name] = ast.literal_eval(value.strip())
    return values
