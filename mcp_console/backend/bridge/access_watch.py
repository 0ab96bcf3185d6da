"""Keeps the gateway's key cache honest: revoked keys and changed teams take effect at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.events import EventBus
from mcp_console.backend.gateway.core import Gateway

logger = logging.getLogger(__name__)

# How often revocations made by another process (a second backend on the same database)
# are looked for; revocations made here arrive as events, at once.
POLL_SECONDS = 0.5
# Revocations are looked for a little before the last look, for clocks that disagree.
_OVERLAP = timedelta(seconds=5)

RevokedSince = Callable[[datetime], Awaitable[list[int]]]


class AccessWatch:
    """Tells the gateway which keys were revoked (it refuses them and ends their sessions)
    and whose teams changed (it looks their keys up again).

    Args:
        events: the backend's events (``key.revoked``, ``team.changed``).
        gateway: the gateway whose cache and sessions follow.
        revoked_since: the keys revoked at or after a moment (``KeyService.revoked_since``).
        poll_seconds: how often the database is asked.
    """

    def __init__(
        self,
        events: EventBus,
        gateway: Gateway,
        revoked_since: RevokedSince,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._events = events
        self._gateway = gateway
        self._revoked_since = revoked_since
        self._poll = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._known: set[int] = set()

    def start(self) -> None:
        """Begin watching (on the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="access watch")

    async def aclose(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def revoked(self, key_ids: set[int]) -> None:
        """Refuse these keys in the gateway and end the sessions opened with them."""
        fresh = key_ids - self._known
        if not fresh:
            return
        self._known |= fresh
        self._gateway.auth.revoke(fresh)
        ended = self._gateway.end_sessions_of_keys(fresh)
        if ended:
            logger.info("ended %d gateway sessions of revoked keys", ended)

    async def _run(self) -> None:
        # Two loops: a slow database look must never hold up a revocation made here, and a
        # steady stream of events must never hold up the look for other processes' ones.
        async with asyncio.TaskGroup() as group:
            group.create_task(self._follow_events(), name="access watch: events")
            group.create_task(self._poll_database(), name="access watch: database")

    async def _follow_events(self) -> None:
        async with self._events.subscribe() as queue:
            while True:
                event = await queue.get()
                kind = event.get("type")
                if kind == "key.revoked":
                    self.revoked({int(event["key_id"])})
                elif kind == "team.changed":
                    self._gateway.auth.forget_users({int(u) for u in event["user_ids"]})

    async def _poll_database(self) -> None:
        since = utcnow()
        while True:
            await asyncio.sleep(self._poll)
            now = utcnow()
            try:
                self.revoked(set(await self._revoked_since(since - _OVERLAP)))
            except Exception as exc:  # the database may be away for a moment
                logger.warning("cannot look for revoked keys: %r", exc)
            else:
                since = now
