"""A new SQLite database is created from the schema snapshot, which is what the migrations
build; a snapshot left behind by a new migration is caught, and finished by Alembic."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from mcp_console.backend.db import snapshot
from mcp_console.backend.db.engine import create_engine
from mcp_console.backend.db.migrate import (
    alembic_config,
    head_revisions,
    upgrade_if_behind,
    upgrade_sync,
)
from mcp_console.backend.db.snapshot import dump, load_snapshot

Objects = list[tuple[str, str, str, tuple[str, ...]]]


def _objects(path: Path) -> Objects:
    """Every object SQLite holds, its SQL as a sorted set of lines: a batch migration may
    write a rebuilt table's constraints in any order, which changes nothing."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    return [
        (type_, name, table, tuple(sorted(line.strip().rstrip(",") for line in sql.splitlines())))
        for type_, name, table, sql in rows
    ]


def _contents(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """Each table's columns in order and its rows (FTS5's own tables included)."""
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: (
                [row[1] for row in connection.execute(f'PRAGMA table_xinfo("{table}")')],
                sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr),  # noqa: S608
            )
            for table in tables
        }


def _migrated(path: Path, revision: str = "head") -> Path:
    upgrade_sync(f"sqlite+aiosqlite:///{path}", revision)
    return path


async def _upgrade_if_behind(path: Path) -> bool:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    try:
        return await upgrade_if_behind(engine, url)
    finally:
        await engine.dispose()


def test_the_snapshot_builds_what_the_migrations_build(tmp_path: Path) -> None:
    # Fails when a migration is added or changed and scripts/sqlite_schema.py was not run.
    migrated = _migrated(tmp_path / "migrated.db")
    loaded = tmp_path / "loaded.db"
    load_snapshot(str(loaded))

    assert _objects(loaded) == _objects(migrated)
    assert _contents(loaded) == _contents(migrated)
    with sqlite3.connect(loaded) as connection:
        stamped = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {revision for (revision,) in stamped} == head_revisions()


async def test_a_new_database_gets_the_head_schema_searchable(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert await _upgrade_if_behind(path) is True
    assert await _upgrade_if_behind(path) is False
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO users (id, name, role, created_at)"
            " VALUES (1, 'ada', 'admin', '2026-01-01')"
        )
        connection.execute(
            "INSERT INTO mcp_services (id, name, display_name, description, tags, author_id,"
            " price_model, price_per_request, status, featured, downloads_count,"
            " rating_average, rating_count, rating_sum, created_at, updated_at) VALUES"
            " (1, 'io.example/weather', 'Weather', 'Forecasts', '[\"sky\"]', 1, 'FREE', 0,"
            " 'PUBLISHED', 0, 0, 0, 0, 0, '2026-01-01', '2026-01-01')"
        )
        found = connection.execute(
            "SELECT rowid FROM service_search WHERE service_search MATCH 'forec*'"
        ).fetchall()
    assert found == [(1,)]  # the search index's triggers came with the schema


async def test_a_snapshot_behind_the_head_is_finished_by_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (head,) = head_revisions()
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    stale = tmp_path / "stale.sql"
    previous_db = await asyncio.to_thread(_migrated, tmp_path / "previous.db", previous)
    stale.write_text(dump(previous_db), encoding="utf-8")
    monkeypatch.setattr(snapshot, "SCHEMA_SNAPSHOT", stale)

    path = tmp_path / "new.db"
    assert await _upgrade_if_behind(path) is True
    migrated = await asyncio.to_thread(_migrated, tmp_path / "migrated.db")
    assert _objects(path) == _objects(migrated)
    assert _contents(path) == _contents(migrated)


def test_a_database_holding_tables_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "taken.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE mcp_services (id INTEGER PRIMARY KEY)")
    before = _objects(path)

    with pytest.raises(sqlite3.OperationalError, match="mcp_services already exists"):
        load_snapshot(str(path))
    assert _objects(path) == before  # nothing half-written
