"""Run Alembic migrations from code (``db upgrade`` and the console's start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointed at our migrations and at ``url``."""
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


def downgrade_sync(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    command.downgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade from async code: in a worker thread, which gets its own event loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)
