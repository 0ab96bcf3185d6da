"""EventBus: fan-out of backend events to subscribers, each with its own bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp_console.schemas.users import Principal

Listener = Callable[[dict[str, Any]], None]
# Fields of an event for the audit trail alone: who acted is shown by the trail's own rules
# (a user sees only their actions and what happened to what they own), never on a stream.
_AUDIT_ONLY = ("actor", "system", "owner_id")


def streamed(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as a user's event stream carries it: without who made the change."""
    return {key: value for key, value in event.items() if key not in _AUDIT_ONLY}


def acted_by(actor: Principal | None) -> dict[str, Any]:
    """The ``actor`` field of an event about a change: who made it and from where (``api``
    with a key, ``local`` from the CLI or the console); ``None`` when the console decided."""
    if actor is None:
        return {"actor": None}
    via = "local" if actor.key_id is None else "api"
    return {"actor": {"user_id": actor.user_id, "name": actor.name, "via": via}}


class EventBus:
    """Fan events out; a slow subscriber loses its oldest events and never blocks the rest."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` with every event as it is published, for as long as the bus
        lives: for a reader that must lose none (it must not block, do I/O or await)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def publish(self, event: dict[str, Any]) -> None:
        """Deliver ``event`` to every listener and subscriber without waiting."""
        for listener in self._listeners:
            listener(event)
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue that receives every event published while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
