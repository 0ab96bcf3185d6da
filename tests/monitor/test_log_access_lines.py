"""Access lines: kept out of the full-text index (one per request), found by text all the same."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from mcp_console.backend.monitor.log_search import LogFilter, parse_text
from mcp_console.backend.monitor.log_store import LogStore, StoredLine

ACCESS = "tools/call tool=get_weather status=200 user=alice session=9f86d081884c7d65"


def _store(tmp_path: Path) -> LogStore:
    store = LogStore(tmp_path / "logs.db")
    store.open()
    now = time.time()
    store.append(
        [
            StoredLine(now - 4, 1, "i-1", "stderr", 1, "INFO calling get_weather upstream"),
            StoredLine(now - 3, 1, "i-1", "access", 1, ACCESS),
            StoredLine(now - 2, 1, "i-1", "stderr", 1, "INFO get_weather answered"),
            StoredLine(now - 1, 1, "i-1", "access", 2, "tools/call tool=get_news status=404"),
        ]
    )
    return store


def _texts(store: LogStore, text: str, limit: int = 100, after_id: int | None = None) -> list[str]:
    wanted = LogFilter((1,), text=parse_text(text), limit=limit, after_id=after_id)
    return [row[6] for row in store.search(wanted)]


def test_access_lines_are_found_by_text_beside_indexed_lines_newest_first(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    try:
        assert _texts(store, "GET_WEATHER") == [
            "INFO get_weather answered",
            ACCESS,
            "INFO calling get_weather upstream",
        ]
        assert _texts(store, "get_weather", limit=2) == ["INFO get_weather answered", ACCESS]
        assert _texts(store, "session=9f86d0") == [ACCESS]
        assert _texts(store, r"/status=4\d\d/") == ["tools/call tool=get_news status=404"]
        # LIKE's wildcards are plain characters in a search.
        assert _texts(store, "get%weather") == []
        assert _texts(store, "get_w_ather") == []
        # A follower's next page: oldest first after an id.
        [first, *_] = store.search(LogFilter((1,), text=parse_text("get_")))
        assert _texts(store, "get_", after_id=first[0] - 2) == [
            "INFO get_weather answered",
            "tools/call tool=get_news status=404",
        ]
    finally:
        store.close()


def test_the_full_text_index_holds_no_access_line(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.close()
    with sqlite3.connect(tmp_path / "logs.db") as conn:
        # One row per indexed line: writing an access line costs no index entry.
        assert conn.execute("SELECT count(*) FROM lines_fts_docsize").fetchone() == (2,)


def test_a_store_written_before_is_indexed_again_without_its_access_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "logs.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE lines (id INTEGER PRIMARY KEY, at REAL NOT NULL,
                deployment_id INTEGER NOT NULL, instance TEXT NOT NULL, stream TEXT NOT NULL,
                level INTEGER NOT NULL, text TEXT NOT NULL);
            CREATE VIRTUAL TABLE lines_fts USING fts5(
                text, content='lines', content_rowid='id', tokenize='trigram');
            CREATE TRIGGER lines_added AFTER INSERT ON lines BEGIN
                INSERT INTO lines_fts (rowid, text) VALUES (new.id, new.text);
            END;
            INSERT INTO lines VALUES (1, 1.0, 1, 'i-1', 'access', 1, 'tools/call tool=old');
            INSERT INTO lines VALUES (2, 2.0, 1, 'i-1', 'stderr', 1, 'INFO old start');
            """
        )
    store = LogStore(path)
    store.open()
    try:
        assert store.delete_before(3.0) == 2
        with sqlite3.connect(path) as conn:
            # The old access line left the index with the rebuild, not through the delete
            # trigger (which would have broken it): the index checks out whole and empty.
            conn.execute("INSERT INTO lines_fts (lines_fts) VALUES ('integrity-check')")
            assert conn.execute("SELECT count(*) FROM lines_fts_docsize").fetchone() == (0,)
    finally:
        store.close()
