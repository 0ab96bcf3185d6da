"""Audit routes: the trail of changes and tool calls, listed or exported as JSON lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.backend.api.openapi import text_response
from mcp_console.schemas.audit import MAX_AUDIT_RESULTS, AuditEntry, AuditQuery

router = APIRouter(tags=["audit"])

JSON_LINES = "application/x-ndjson"
EXPORT_PAGE = 1000


def audit_query(
    since: Annotated[
        str | None, Query(description="A duration back from now (1h, 7d) or an ISO 8601 time.")
    ] = None,
    until: Annotated[
        str | None, Query(description="A duration back from now or an ISO 8601 time.")
    ] = None,
    user: Annotated[str | None, Query(description="Who acted (a user, or controller).")] = None,
    kind: Annotated[
        str | None, Query(description="A kind (deployment.scaled, tool.call) or a group.")
    ] = None,
    deployment: Annotated[
        str | None, Query(description="A deployment: its name, or owner/name.")
    ] = None,
    before_id: Annotated[int | None, Query(ge=1, description="Older than this entry.")] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_AUDIT_RESULTS, description="At most this many.")
    ] = 100,
) -> AuditQuery:
    """The listing the query string asks for (its filters are checked by the service)."""
    return AuditQuery(
        since=since,
        until=until,
        user=user,
        kind=kind,
        deployment=deployment,
        before_id=before_id,
        limit=limit,
    )


Wanted = Annotated[AuditQuery, Depends(audit_query)]


@router.get("/audit")
async def list_audit(rt: RuntimeDep, actor: Actor, query: Wanted) -> list[AuditEntry]:
    """The newest audit events matching the query, newest first: an admin's are everyone's;
    anyone else's are their own actions and what happened to the deployments they own."""
    return await rt.audit.events(actor, query)


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses=text_response("One AuditEntry as JSON per line, newest first.", JSON_LINES),
)
async def export_audit(rt: RuntimeDep, actor: Actor, query: Wanted) -> StreamingResponse:
    """Every matching event (``limit`` is ignored), newest first, one JSON object a line."""
    page_query = query.model_copy(update={"limit": EXPORT_PAGE})
    first = await rt.audit.events(actor, page_query)  # a bad filter is refused with its status

    async def body() -> AsyncIterator[str]:
        page = first
        while page:
            for entry in page:
                yield entry.model_dump_json() + "\n"
            if len(page) < EXPORT_PAGE:
                return
            page = await rt.audit.events(
                actor, page_query.model_copy(update={"before_id": page[-1].id})
            )

    return StreamingResponse(body(), media_type=JSON_LINES)
