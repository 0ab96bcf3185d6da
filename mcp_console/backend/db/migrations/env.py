"""Alembic environment: async engines, batch mode on SQLite, search objects left to their migration."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

import mcp_console.backend.db.models  # noqa: F401  (registers every table)
from mcp_console.backend.db.base import Base, JsonDocument, UtcDateTime
from mcp_console.backend.db.engine import create_engine

# Batch mode reflects tables on SQLite, and SQLAlchemy cannot reflect the expression index
# behind case-insensitive name sorting; the search migration recreates it where needed.
warnings.filterwarnings(
    "ignore", message="Skipped unsupported reflection of expression-based index", category=SAWarning
)

# Full-text search objects (and the ix_search_* indexes serving search) are dialect-specific
# and created by hand in their migration; autogenerate must neither drop them nor miss them.
SEARCH_OBJECTS = {"service_search", "search_vector", "ix_mcp_services_search_vector"}


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith("service_search"):
        return False
    if type_ == "index" and name.startswith("ix_search_"):
        return False
    return name not in SEARCH_OBJECTS


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so migrations never import models."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JsonDocument):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_async(url))


run()
