"""Catalog search: the query grammar and the full-text index of each database."""

from __future__ import annotations

from mcp_console.backend.catalog.search.base import (
    MAX_PAGE_SIZE,
    SearchIndex,
    category_counts,
    tag_counts,
)
from mcp_console.backend.catalog.search.query import ParsedQuery, parse_query
from mcp_console.backend.catalog.search.sqlite import SqliteSearchIndex

__all__ = [
    "MAX_PAGE_SIZE",
    "ParsedQuery",
    "SearchIndex",
    "SqliteSearchIndex",
    "category_counts",
    "parse_query",
    "search_index_for",
    "tag_counts",
]


def search_index_for(dialect_name: str, *, rank_cap: int | None = None) -> SearchIndex:
    """The search index of a database dialect (``"sqlite"`` or ``"postgresql"``).

    ``rank_cap`` is how many matches are ranked by text relevance before the ranking falls
    back to popularity (by default what each database ranks within its latency target).

    Raises:
        ValueError: the dialect has no search index.
    """
    if dialect_name == "sqlite":
        return SqliteSearchIndex() if rank_cap is None else SqliteSearchIndex(rank_cap=rank_cap)
    if dialect_name == "postgresql":
        # With PostgreSQL's dialect: a backend on SQLite loads neither.
        from mcp_console.backend.catalog.search.postgres import PostgresSearchIndex

        return PostgresSearchIndex() if rank_cap is None else PostgresSearchIndex(rank_cap=rank_cap)
    raise ValueError(f"no search index for the {dialect_name!r} database")
