"""Runtime: owns the engine, the services and the event bus for one backend on one loop."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mcp_console.backend.catalog.search import search_index_for
from mcp_console.backend.catalog.service import CatalogService
from mcp_console.backend.db.engine import create_engine, is_sqlite, session_factory
from mcp_console.backend.db.migrate import upgrade
from mcp_console.backend.events import EventBus
from mcp_console.backend.security.users import UserService
from mcp_console.schemas.users import Principal
from mcp_console.settings import Settings


class Runtime:
    """The backend: enter it on the running loop, leave it to release everything it holds."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self._migrate = migrate
        self._engine: AsyncEngine | None = None
        self.local_admin: Principal | None = None
        self.local_admin_new_key: str | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The database engine (only inside the context)."""
        if self._engine is None:
            raise RuntimeError("the runtime is not started")
        return self._engine

    async def __aenter__(self) -> Self:
        url = self.settings.resolved_database_url
        if is_sqlite(url):
            self.settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._migrate:
            await upgrade(url)
        self._engine = create_engine(url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self._engine)
        self.events = EventBus()
        self.users = UserService(self.sessions)
        self.catalog = CatalogService(
            self.sessions, self.events, search_index_for(self._engine.dialect.name)
        )
        self.local_admin, self.local_admin_new_key = await self.users.ensure_local_admin(
            self.settings.local_admin_name
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
