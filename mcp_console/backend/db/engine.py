"""Async engine creation: SQLite tuned for a local console, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import Session, SessionTransactionOrigin


def is_sqlite(url: str) -> bool:
    """Whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if not is_sqlite(url):
        engine = create_async_engine(url, echo=echo, pool_size=10)
        _replace_closed_connections(engine)
        return engine
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Write transactions take the lock up front: no deadlock-prone read→write upgrades.
        # Reads begin deferred: under WAL they never wait for a writer.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    _disable_pysqlite_autobegin(engine)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """Hand out no pooled connection the server has closed (a restart, an idle timeout).

    SQLAlchemy's pre-ping would ask the server each time (three round trips on asyncpg,
    half a millisecond per session); the driver already knows when its socket closed.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _check_open(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
        driver = proxy.driver_connection
        if driver is not None and driver.is_closed():
            raise DisconnectionError("the database closed this pooled connection")


def _disable_pysqlite_autobegin(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the driver, emit BEGIN (so the BEGIN chosen above is the only one)."""

    @event.listens_for(engine.sync_engine, "connect", insert=True)
    def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (DTOs are built after it).

    ``sessions.begin()`` opens a write transaction; a session used without it reads (it
    never commits), and on SQLite it neither takes nor waits for the write lock.
    """
    info: dict[str, Any] = {}
    if engine.dialect.name == "sqlite":
        info[_WRITER] = engine.sync_engine.execution_options(**{_WRITE: True})
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=_ConsoleSession, info=info
    )


# Execution option of the connections of explicitly begun (write) transactions, and the
# key of the engine giving such connections in a session's info.
_WRITE = "mcp_console_write"
_WRITER = "mcp_console_writer"


class _ConsoleSession(Session):
    """A session whose explicitly begun transactions run on connections marked for writing."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        writer: Engine | None = self.info.get(_WRITER)
        transaction = self.get_transaction()
        if (
            writer is not None
            and transaction is not None
            and transaction.origin is SessionTransactionOrigin.BEGIN
        ):
            return writer
        return super().get_bind(*args, **kwargs)
