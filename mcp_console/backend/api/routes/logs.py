"""Log routes: search the kept lines, export them as JSON lines, follow them live (SSE)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor
from mcp_console.backend.api.openapi import text_response
from mcp_console.schemas.logs import MAX_LOG_RESULTS, LogLine, LogQuery

router = APIRouter(tags=["logs"])

JSON_LINES = "application/x-ndjson"


def log_query(
    deployment: Annotated[
        str | None, Query(description="A deployment: its name, or owner/name.")
    ] = None,
    instance: Annotated[str | None, Query(description="Only this instance.")] = None,
    level: Annotated[
        str | None, Query(description="This level and worse: debug, info, warn, error.")
    ] = None,
    since: Annotated[
        str | None, Query(description="A duration back from now (1h, 7d) or an ISO 8601 time.")
    ] = None,
    until: Annotated[
        str | None, Query(description="A duration back from now or an ISO 8601 time.")
    ] = None,
    q: Annotated[
        str | None,
        Query(description="A substring (any case), /regex/, or either after ! to exclude."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_RESULTS, description="At most this many.")] = 100,
) -> LogQuery:
    """The search the query string asks for (its grammar is checked by the service)."""
    return LogQuery(
        deployment=deployment,
        instance=instance,
        level=level,
        since=since,
        until=until,
        text=q,
        limit=limit,
    )


Wanted = Annotated[LogQuery, Depends(log_query)]


@router.get("/logs")
async def search_logs(rt: RuntimeDep, actor: ScopedActor, query: Wanted) -> list[LogLine]:
    """The newest kept lines matching the query, newest first, of the deployments whose
    logs the caller may read (secret values masked)."""
    return await rt.logs.search(actor, query)


@router.get(
    "/logs/export",
    response_class=StreamingResponse,
    responses=text_response("One LogLine as JSON per line, oldest first.", JSON_LINES),
)
async def export_logs(rt: RuntimeDep, actor: ScopedActor, query: Wanted) -> StreamingResponse:
    """The same lines as JSON lines (one object per line), oldest first, for other tools."""
    lines = await rt.logs.search(actor, query)

    async def body() -> AsyncIterator[str]:
        for line in reversed(lines):
            yield line.model_dump_json() + "\n"

    return StreamingResponse(body(), media_type=JSON_LINES)


async def checked_query(rt: RuntimeDep, actor: Actor, query: Wanted) -> LogQuery:
    """The query, refused (with its status) before a stream starts if it is bad."""
    await rt.logs.check(actor, query)
    return query


@router.get("/logs/follow", response_class=EventSourceResponse)
async def follow_logs(
    request: Request,
    rt: RuntimeDep,
    actor: Actor,
    query: Annotated[LogQuery, Depends(checked_query)],
) -> AsyncIterator[ServerSentEvent]:
    """The newest ``limit`` matching lines oldest first, then each new one as it is kept:
    one ``log`` event per line, after a ``: subscribed`` comment. The stream ends when the
    daemon stops. Like the event stream, it is not for a key limited to some deployments."""
    keepalive: float = request.app.state.keepalive_seconds
    yield ServerSentEvent(comment="subscribed")
    quiet_since = time.monotonic()
    async for page in rt.logs.pages(actor, query):
        if request.app.state.stopping:
            return
        for line in page:
            yield ServerSentEvent(event="log", data=line.model_dump(mode="json"))
        if page:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= keepalive:
            quiet_since = time.monotonic()
            yield ServerSentEvent(comment="keep-alive")
