"""The log store: every instance's output and the gateway's access log in one SQLite file.

Why a SQLite file of its own (``logs.db`` in the data dir), whatever the main database
is: logs are high-volume, append-only and written by the one backend process. Kept apart
they never contend with the main database's transactions (nor fill a PostgreSQL server's
WAL with chatter), their retention is a matter of deleting the oldest rows of one file,
and a SQLite reader on the same machine (the CLI, a console) searches them directly. WAL
mode lets those readers search while the backend writes; ``synchronous=NORMAL`` keeps a
committed batch across a crash of the process (``kill -9``), which is what a log needs.

Search stays fast on millions of lines through an FTS5 index with the trigram tokenizer
(any substring of three characters or more, case-insensitive), ordered by row id, which
grows with time, so the newest matches are found first. The gateway's access lines are
kept out of that index: there is one per request, and indexing one costs the gateway ten
times what writing it does (every trigram of a session id is a new term). They are
found by their fields (deployment, instance, level, time) and, for text, read newest
first from an index that holds them alone, stopping at the page's last match.

Every method here blocks: the collector calls the writers on its one writer thread,
readers call ``search`` through ``asyncio.to_thread``, each on a connection of its own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_console.backend.monitor.log_search import REGEX_FUNCTION, LogFilter, build_query
from mcp_console.schemas.errors import Invalid

FILE_NAME = "logs.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    deployment_id INTEGER NOT NULL,
    instance TEXT NOT NULL,
    stream TEXT NOT NULL,
    level INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lines_at ON lines (at);
CREATE INDEX IF NOT EXISTS lines_deployment ON lines (deployment_id, id);
-- Access lines in id order with every column: a text search reads them from here alone,
-- in order, instead of looking each row up in the table (three times faster).
CREATE INDEX IF NOT EXISTS lines_access
    ON lines (id, deployment_id, instance, level, at, stream, text) WHERE stream = 'access';
CREATE VIRTUAL TABLE IF NOT EXISTS lines_fts USING fts5(
    text, content='lines', content_rowid='id', tokenize='trigram'
);
DROP TRIGGER IF EXISTS lines_added;
DROP TRIGGER IF EXISTS lines_removed;
CREATE TRIGGER lines_added AFTER INSERT ON lines WHEN new.stream <> 'access' BEGIN
    INSERT INTO lines_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER lines_removed AFTER DELETE ON lines WHEN old.stream <> 'access' BEGIN
    INSERT INTO lines_fts (lines_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""
# ``PRAGMA user_version`` of a store whose index holds no access line. A store written
# before has its index built again once, without them (the delete trigger above must
# never remove what the index does not hold: an external-content index would break).
_SCHEMA_VERSION = 1
_REINDEX = """
INSERT INTO lines_fts (lines_fts) VALUES ('delete-all');
INSERT INTO lines_fts (rowid, text) SELECT id, text FROM lines WHERE stream <> 'access';
"""
# Deleting by size removes a little more than the excess, so the next few batches do not
# each start another purge.
_SIZE_HEADROOM = 0.8
_BUSY_MS = 5000
# A search still running after this long is stopped (a regex testing every line of a
# big store, say): the reader is told to narrow it rather than wait on.
SEARCH_SECONDS = 10.0
# How many SQLite steps pass between two looks at the clock.
_CLOCK_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class StoredLine:
    """One line as written: its level is a rank (0 debug … 3 error)."""

    at: float
    deployment_id: int
    instance: str
    stream: str
    level: int
    text: str


# (id, at, deployment_id, instance, stream, level, text)
Row = tuple[int, float, int, str, str, int, str]


class LogStore:
    """The log database file: append in batches, search, and delete by age and size.

    Args:
        path: the database file (created with its schema on ``open``).
        search_seconds: how long one search may run before it is stopped.
    """

    def __init__(self, path: Path, *, search_seconds: float = SEARCH_SECONDS) -> None:
        self.path = path
        self.search_seconds = search_seconds
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        """Create the file and its schema if needed and open the writing connection."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # Before the first table: only then can freed pages go back to the file system.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for statement in _statements(_SCHEMA):
                conn.execute(statement)
            if version < _SCHEMA_VERSION:
                for statement in _statements(_REINDEX):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        self.path.chmod(0o600)
        self._writer = conn

    def close(self) -> None:
        """Close the writing connection (a checkpoint folds the WAL into the file)."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def append(self, lines: Sequence[StoredLine]) -> None:
        """Write ``lines`` in one transaction."""
        with self._lock:
            conn = self._conn()
            with _transaction(conn):
                conn.executemany(
                    "INSERT INTO lines (at, deployment_id, instance, stream, level, text) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(x.at, x.deployment_id, x.instance, x.stream, x.level, x.text) for x in lines],
                )

    def search(self, wanted: LogFilter) -> list[Row]:
        """The lines ``wanted`` asks for (newest first, or oldest first after an id).

        Raises:
            Invalid: the search ran longer than ``search_seconds`` (it names what narrows it).
        """
        if not wanted.deployment_ids:
            return []
        conn = self.reader()
        deadline = time.monotonic() + self.search_seconds
        conn.set_progress_handler(lambda: time.monotonic() > deadline, _CLOCK_STEPS)
        try:
            ids = _id_range(conn, wanted)
            if ids is None:
                return []
            sql, params = build_query(wanted, ids)
            regex = wanted.text.regex if wanted.text is not None else None
            if regex is not None:
                conn.create_function(REGEX_FUNCTION, 1, lambda text: regex.search(text) is not None)
            return [tuple(row) for row in conn.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            raise Invalid(
                f"the search took longer than {self.search_seconds:g} s: narrow it with a "
                "deployment, a level, a time range or a longer substring",
                field="text",
            ) from None
        finally:
            conn.close()

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of the caller's own (WAL: it reads while batches land)."""
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        return conn

    def delete_before(self, at: float) -> int:
        """Delete the lines written before ``at`` (epoch seconds); returns how many."""
        with self._lock:
            conn = self._conn()
            with _transaction(conn):
                cursor = conn.execute("DELETE FROM lines WHERE at < ?", (at,))
            self._shrink(conn)
            return cursor.rowcount

    def delete_over(self, max_bytes: int) -> int:
        """Delete the oldest lines until the file holds at most ``max_bytes``."""
        with self._lock:
            conn = self._conn()
            used = self._used_bytes(conn)
            if used <= max_bytes:
                return 0
            count, newest = conn.execute(
                "SELECT count(*), coalesce(max(id), 0) FROM lines"
            ).fetchone()
            keep = int(count * max_bytes / used * _SIZE_HEADROOM)
            with _transaction(conn):
                cursor = conn.execute("DELETE FROM lines WHERE id <= ?", (newest - keep,))
                # Merged into one segment: the index's deleted entries stop taking room.
                conn.execute("INSERT INTO lines_fts (lines_fts) VALUES ('optimize')")
            self._shrink(conn)
            return cursor.rowcount

    def size_bytes(self) -> int:
        """The bytes the store's pages hold (free pages not counted)."""
        with self._lock:
            return self._used_bytes(self._conn())

    def _conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise RuntimeError("the log store is not open")
        return self._writer

    @staticmethod
    def _used_bytes(conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    @staticmethod
    def _shrink(conn: sqlite3.Connection) -> None:
        # Free pages go back to the file system, and the WAL is folded in and emptied.
        # executescript steps the pragma to its end (execute frees one page only).
        conn.executescript("PRAGMA incremental_vacuum;")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _statements(script: str) -> list[str]:
    """The statements of ``script``, to run one by one inside a transaction (which
    ``executescript`` would end)."""
    statements, current = [], ""
    for line in script.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    return statements


def _id_range(conn: sqlite3.Connection, wanted: LogFilter) -> tuple[int, int] | None:
    """The ids of the lines in the filter's time range, after its ``after_id`` (``None``:
    there are none)."""
    low = 0 if wanted.after_id is None else wanted.after_id + 1
    high = 2**62
    if wanted.since is not None:
        row = conn.execute(
            "SELECT id FROM lines WHERE at >= ? ORDER BY at LIMIT 1", (wanted.since,)
        ).fetchone()
        if row is None:
            return None
        low = max(low, int(row[0]))
    if wanted.until is not None:
        row = conn.execute(
            "SELECT id FROM lines WHERE at <= ? ORDER BY at DESC LIMIT 1", (wanted.until,)
        ).fetchone()
        if row is None:
            return None
        high = int(row[0])
    return (low, high) if low <= high else None


class _transaction:
    """BEGIN … COMMIT on an autocommit connection, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
