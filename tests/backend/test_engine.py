"""The database engine: pooled connections the server closed are replaced, not handed out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from mcp_console.backend.db.engine import create_engine, session_factory
from tests.conftest import _postgres_database


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _postgres_database(request, migrated=False)


async def test_a_connection_the_server_ended_is_replaced_at_checkout(
    postgres_database: str,
) -> None:
    engine = create_engine(postgres_database)
    sessions = session_factory(engine)
    other = create_engine(postgres_database)
    try:
        async with sessions() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        # The server ends the idle pooled connection (as a restart or an idle timeout would).
        async with session_factory(other)() as admin:
            ended = await admin.scalar(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": first},
            )
            await admin.commit()
        assert ended is True
        # The first session after it still works, on a new connection.
        for _ in range(3):
            async with sessions() as session:
                second = await session.scalar(text("SELECT pg_backend_pid()"))
            assert second != first
    finally:
        await engine.dispose()
        await other.dispose()
