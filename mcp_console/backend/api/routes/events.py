"""The live event stream: the runtime's EventBus as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.backend.deploy.event_audience import EventAudience
from mcp_console.backend.events import streamed

router = APIRouter(tags=["events"])

STOPPING_EVENT = "daemon.stopping"


@router.get("/events", response_class=EventSourceResponse)
async def stream_events(
    request: Request, rt: RuntimeDep, actor: Actor
) -> AsyncIterator[ServerSentEvent]:
    """Every backend event the caller may see, as it happens; ``event`` is the type,
    ``data`` the JSON event (an admin sees all; others only what is theirs or shared).

    The stream opens with a ``: subscribed`` comment once no later event can be missed,
    sends a ``: keep-alive`` comment when idle, and ends with a ``daemon.stopping`` event.
    """
    keepalive: float = request.app.state.keepalive_seconds
    audience = EventAudience(rt.sessions, actor)
    async with rt.events.subscribe() as queue:
        yield ServerSentEvent(comment="subscribed")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield ServerSentEvent(comment="keep-alive")
                continue
            kind = str(event.get("type", "message"))
            if not await audience.allows(event):
                continue
            yield ServerSentEvent(event=kind, data=streamed(event))
            if kind == STOPPING_EVENT and request.app.state.stopping:
                return
