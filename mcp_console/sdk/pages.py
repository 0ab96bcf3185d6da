"""Every item of a paged listing, fetched page by page: search results and the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator

from mcp_console.client.protocol import ConsoleClient
from mcp_console.schemas.audit import AuditEntry, AuditQuery
from mcp_console.schemas.catalog import ServiceView

SEARCH_PAGE_SIZE = 50


async def all_services(
    client: ConsoleClient, query: str = "", *, page_size: int = SEARCH_PAGE_SIZE
) -> AsyncIterator[ServiceView]:
    """Every service ``query`` finds, in the search's order, one page fetched at a time.

    Raises:
        Invalid: the query or the page size is wrong.
    """
    page = 1
    while True:
        found = await client.search_services(query, page=page, page_size=page_size)
        for service in found.items:
            yield service
        # An estimated total may be off: a short page is what says the results have ended.
        if len(found.items) < page_size or (found.total_exact and page * page_size >= found.total):
            return
        page += 1


async def all_audit_events(
    client: ConsoleClient, query: AuditQuery | None = None
) -> AsyncIterator[AuditEntry]:
    """Every audit entry ``query`` selects, newest first, ``query.limit`` per request.

    Raises:
        Invalid: a field of the query is wrong.
    """
    page_query = query or AuditQuery()
    while True:
        page = await client.audit_events(page_query)
        for entry in page:
            yield entry
        if len(page) < page_query.limit:
            return
        page_query = page_query.model_copy(update={"before_id": page[-1].id})
