"""search index

Full-text search of the catalog, per database:

- SQLite: the FTS5 table ``service_search`` (rowid = service id) with the text columns and
  a ``facets`` column of filter tokens, kept current by triggers on ``mcp_services``. A
  later batch (copy-and-move) migration of ``mcp_services`` drops these triggers and the
  expression index ``ix_search_name`` (reflection skips it): such a migration must create
  them again (the search tests catch a missing trigger).
- PostgreSQL: ``mcp_services.search_vector``, a generated tsvector (names weight A, tags B,
  description C) with a GIN index.

Both get indexes serving the sort orders; PostgreSQL also a covering index of the filter
columns, so that counting a filter-only search never reads the table.

Both split names on punctuation, so ``io.github.acme/weather`` is found by ``github``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = """
CREATE VIRTUAL TABLE service_search USING fts5(
    name, display_name, tags, description, facets,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6'
)
"""

# The index row of one service; {row} is "s" in the backfill, "new" in the triggers.
SQLITE_ROW = """
    {row}.id, {row}.name, {row}.display_name,
    (SELECT group_concat(t.value, ' ') FROM json_each({row}.tags) AS t),
    {row}.description,
    '0s' || lower({row}.status) || ' 0p' || lower({row}.price_model)
        || ' 0f' || (CASE WHEN {row}.featured THEN 1 ELSE 0 END) || ' 0a' || {row}.author_id
        || coalesce(' 0c' || hex(lower({row}.category)), '')
        || coalesce((SELECT ' ' || group_concat('0t' || hex(lower(t.value)), ' ')
                     FROM json_each({row}.tags) AS t), '')
"""
SQLITE_INSERT = "INSERT INTO service_search (rowid, name, display_name, tags, description, facets)"

SQLITE_TRIGGERS = {
    "service_search_insert": f"""
CREATE TRIGGER service_search_insert AFTER INSERT ON mcp_services BEGIN
    {SQLITE_INSERT} SELECT {SQLITE_ROW.format(row="new")};
END
""",
    "service_search_update": f"""
CREATE TRIGGER service_search_update
AFTER UPDATE OF id, name, display_name, description, tags, category, status, price_model,
    featured, author_id ON mcp_services
BEGIN
    DELETE FROM service_search WHERE rowid = old.id;
    {SQLITE_INSERT} SELECT {SQLITE_ROW.format(row="new")};
END
""",  # noqa: S608 (constant SQL)
    "service_search_delete": """
CREATE TRIGGER service_search_delete AFTER DELETE ON mcp_services BEGIN
    DELETE FROM service_search WHERE rowid = old.id;
END
""",
}

# [[:punct:]] becomes a space first: the default parser would keep "io.github.acme" whole.
POSTGRES_VECTOR = """
ALTER TABLE mcp_services ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple'::regconfig, regexp_replace(display_name, '[[:punct:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple'::regconfig, regexp_replace(tags::text, '[[:punct:]]+', ' ', 'g')), 'B')
    || setweight(to_tsvector('simple'::regconfig, regexp_replace(description, '[[:punct:]]+', ' ', 'g')), 'C')
) STORED
"""
POSTGRES_INDEXES = {
    "ix_mcp_services_search_vector": "ON mcp_services USING gin (search_vector)",
    # Every search filters on status: pages walk these in sort order, visible rows only.
    "ix_search_downloads": "ON mcp_services (status, downloads_count, id)",
    "ix_search_rating": "ON mcp_services (status, rating_average, rating_count, id)",
    "ix_search_created": "ON mcp_services (status, created_at, id)",
    # sort:name is case-insensitive: lower(name), then the (unique) name.
    "ix_search_name": "ON mcp_services (status, lower(name), name)",
    # Counts of filter-only searches read this index alone (no heap): see the search module.
    "ix_search_filters": (
        "ON mcp_services (status, price_model, featured, category, author_id) INCLUDE (id)"
    ),
}
SQLITE_INDEXES = {
    "ix_search_rating": "ON mcp_services (rating_average, rating_count)",
    "ix_search_name": "ON mcp_services (lower(name), name)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_VECTOR)
        for name, definition in POSTGRES_INDEXES.items():
            op.execute(f"CREATE INDEX {name} {definition}")
        return
    op.execute(SQLITE_FTS)
    op.execute(f"{SQLITE_INSERT} SELECT {SQLITE_ROW.format(row='s')} FROM mcp_services AS s")  # noqa: S608
    for sql in SQLITE_TRIGGERS.values():
        op.execute(sql)
    for name, definition in SQLITE_INDEXES.items():
        op.execute(f"CREATE INDEX {name} {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRES_INDEXES:
            op.execute(f"DROP INDEX {name}")
        op.execute("ALTER TABLE mcp_services DROP COLUMN search_vector")
        return
    for name in SQLITE_INDEXES:
        op.execute(f"DROP INDEX {name}")
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE service_search")
