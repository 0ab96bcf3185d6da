"""A backend starting on a current database runs no migration; one behind or empty is
brought to the head revision first."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import text

from mcp_console.backend.db.engine import create_engine
from mcp_console.backend.db.migrate import (
    alembic_config,
    downgrade_sync,
    head_revisions,
    upgrade_if_behind,
)


async def _revisions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def _upgrade_if_behind(url: str) -> bool:
    engine = create_engine(url)
    try:
        return await upgrade_if_behind(engine, url)
    finally:
        await engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revisions() == frozenset(script.get_heads())


async def test_a_current_database_is_left_as_it_is(database_url: str) -> None:
    assert await _upgrade_if_behind(database_url) is False
    assert await _revisions(database_url) == set(head_revisions())


async def test_an_empty_database_is_migrated_to_the_head(empty_database_url: str) -> None:
    assert await _upgrade_if_behind(empty_database_url) is True
    assert await _revisions(empty_database_url) == set(head_revisions())
    assert await _upgrade_if_behind(empty_database_url) is False


async def test_a_database_behind_is_upgraded(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    (head,) = head_revisions()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(downgrade_sync, database_url, previous)

    assert await _upgrade_if_behind(database_url) is True
    assert await _revisions(database_url) == {head}
