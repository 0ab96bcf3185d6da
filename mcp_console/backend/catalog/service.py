"""CatalogService (placeholder until the full service lands in this change)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.events import EventBus


class CatalogService:
    """Placeholder."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus) -> None:
        self._sessions = sessions
        self._events = events
