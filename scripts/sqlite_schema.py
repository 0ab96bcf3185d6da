"""Write the SQLite schema snapshot (``mcp_console/backend/db/schema.sql``) from the migrations.

    python scripts/sqlite_schema.py     # after adding or changing a migration

Runs every migration on a new SQLite file and writes what they built, rows and revision
stamp included: a new SQLite database is created from it in one transaction.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.db.snapshot import SCHEMA_SNAPSHOT, dump


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "schema.db"
        upgrade_sync(f"sqlite+aiosqlite:///{path}")
        SCHEMA_SNAPSHOT.write_text(dump(path), encoding="utf-8")
    print(f"wrote {SCHEMA_SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
