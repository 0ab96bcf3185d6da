"""The database engine: pooled connections the server closed are replaced, not handed out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from mcp_console.backend.db.engine import create_engine, session_factory
from tests.conftest import _postgres_database

ADD_USER = text("INSERT INTO users (name, role, created_at) VALUES (:n, 'user', '2026-01-01')")


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
        # The server ends the idle pooled connection (as a restart or an idle timeout would),
        # and its backend is gone before the pool is next used, as between two requests.
        admin = session_factory(other)
        async with admin() as session:
            ended = await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        assert ended is True
        for _ in range(500):
            async with admin() as session:  # one transaction each: activity is a snapshot
                alive = await session.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
                )
            if not alive:
                break
            await asyncio.sleep(0.01)
        assert not alive
        await asyncio.sleep(0.05)  # time for the loop to read the closed socket's end
        # The first session after it still works, on a new connection.
        for _ in range(3):
            async with sessions() as session:
                second = await session.scalar(text("SELECT pg_backend_pid()"))
            assert second != first
    finally:
        await engine.dispose()
        await other.dispose()


async def test_on_sqlite_reads_do_not_wait_for_an_open_write(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as writer:
            await writer.execute(
                text(
                    "INSERT INTO users (name, role, created_at) VALUES ('w', 'user', '2026-01-01')"
                )
            )
            # The write holds the database's write lock; a read still answers at once, from
            # the last committed state (a guard, not a timing: a blocked read waits 30 s).
            async with sessions() as reader:
                names = await asyncio.wait_for(
                    reader.scalars(text("SELECT name FROM users WHERE name = 'w'")), timeout=10
                )
                assert list(names) == []
        async with sessions() as reader:
            assert await reader.scalar(text("SELECT count(*) FROM users WHERE name = 'w'")) == 1
    finally:
        await engine.dispose()


async def test_on_sqlite_writers_queue_rather_than_fail(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    order: list[str] = []
    first_in = asyncio.Event()

    async def write(name: str, hold: asyncio.Event | None) -> None:
        async with sessions.begin() as session:
            # Each reads before writing: a deferred transaction could not upgrade its lock.
            await session.scalar(text("SELECT count(*) FROM users"))
            order.append(f"{name} in")
            if hold is not None:
                first_in.set()
                await asyncio.sleep(0.2)
            await session.execute(
                text(
                    "INSERT INTO users (name, role, created_at) VALUES (:n, 'user', '2026-01-01')"
                ),
                {"n": name},
            )
            order.append(f"{name} out")

    try:
        first = asyncio.ensure_future(write("first", first_in))
        await first_in.wait()
        await asyncio.gather(first, write("second", None))
    finally:
        await engine.dispose()
    assert order == ["first in", "first out", "second in", "second out"]
