"""The head schema as one SQLite script: a new SQLite database is created from it at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# What the migrations build on a new SQLite database, stamp included, as ``dump`` writes it
# (``scripts/sqlite_schema.py`` runs the migrations and writes it here). Loading it is one
# transaction and no Alembic, where the migrations take several times longer (and a console's
# first start waits on it).
# Alembic stays the source of truth: a test checks that this equals what the migrations build,
# and a database it left behind the head is upgraded by Alembic as any other.
SCHEMA_SNAPSHOT = Path(__file__).parent / "schema.sql"
HEADER = "-- The head schema for SQLite; written by scripts/sqlite_schema.py, do not edit.\n"
# Creation order: a trigger or an index needs its table.
KINDS = ("table", "view", "index", "trigger")


def load_snapshot(path: str) -> None:
    """Create the schema of the SQLite database at ``path`` (which holds no tables) from the
    snapshot, in one transaction: a database that holds tables is left as it was.

    Raises:
        sqlite3.Error: the database already holds one of the snapshot's objects, or cannot
            be written.
    """
    script = SCHEMA_SNAPSHOT.read_text(encoding="utf-8")
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        try:
            connection.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
        except BaseException:
            if connection.in_transaction:
                connection.rollback()
            raise
    finally:
        connection.close()


def dump(path: Path) -> str:
    """The script that creates the objects and rows of the SQLite database at ``path``.

    Each table, view, index and trigger as SQLite recorded it, then every row; SQLite's own
    objects (FTS5 shadow tables, automatic indexes) are left to SQLite, which makes them again
    when the script runs.
    """
    connection = sqlite3.connect(path)
    try:
        listed = connection.execute("PRAGMA table_list").fetchall()
        kinds = {row[1]: row[2] for row in listed}
        # A WITHOUT ROWID table has no rowid to order by: its rows come in key order.
        clustered = {row[1] for row in listed if row[4]}
        objects = connection.execute(
            "SELECT type, name, sql FROM sqlite_master"
            " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " ORDER BY rowid"
        ).fetchall()
        statements = [
            f"{sql};"
            for kind in KINDS
            for type_, name, sql in objects
            if type_ == kind and kinds.get(name) != "shadow"
        ]
        for type_, name, _sql in objects:
            if type_ == "table" and kinds.get(name) == "table":
                statements.extend(_inserts(connection, name, name not in clustered))
        return HEADER + "\n".join(statements) + "\n"
    finally:
        connection.close()


def _inserts(connection: sqlite3.Connection, table: str, by_rowid: bool) -> list[str]:
    columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
    quoted = ", ".join(f'quote("{column}")' for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    # Names come from the database's own catalog; values are quoted by SQLite itself.
    order = " ORDER BY rowid" if by_rowid else ""
    rows = connection.execute(f'SELECT {quoted} FROM "{table}"{order}')  # noqa: S608
    insert = f'INSERT INTO "{table}" ({names}) VALUES'
    return [f"{insert} ({', '.join(values)});" for values in rows]
