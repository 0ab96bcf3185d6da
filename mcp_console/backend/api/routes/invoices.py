"""Invoice routes: a month's invoices, one invoice or its file, and closing a month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.backend.api.openapi import text_response
from mcp_console.schemas.invoices import (
    EXPORT_MEDIA_TYPES,
    Invoice,
    InvoiceFormat,
    InvoiceQuery,
    InvoiceSummary,
    MonthClose,
    MonthCloseRequest,
)

router = APIRouter(tags=["billing"])


def invoice_query(
    month: Annotated[
        str | None, Query(description="A calendar month, YYYY-MM (UTC); default: this month.")
    ] = None,
    user: Annotated[str | None, Query(description="Only this user's invoice.")] = None,
    team: Annotated[str | None, Query(description="Only this team's invoice.")] = None,
) -> InvoiceQuery:
    """The invoices the query string asks for (the month is checked by the service)."""
    return InvoiceQuery.model_construct(month=month, user=user, team=team)


@router.get("/billing/invoices")
async def list_invoices(
    rt: RuntimeDep, actor: Actor, query: Annotated[InvoiceQuery, Depends(invoice_query)]
) -> list[InvoiceSummary]:
    """A month's invoices (drafts until the month is closed): an admin's are everyone's;
    anyone else's their own and those of the teams they maintain."""
    return await rt.invoices.invoices(actor, query)


@router.get("/billing/invoices/{name}")
async def get_invoice(rt: RuntimeDep, actor: Actor, name: str) -> Invoice:
    """One invoice by its number (``INV-202612-U000042``), with its lines."""
    return await rt.invoices.invoice(actor, name)


@router.get(
    "/billing/invoices/{name}/export",
    response_class=Response,
    responses=text_response(
        "The invoice as the format asks: an Invoice as JSON, CSV, or a printable page.",
        *EXPORT_MEDIA_TYPES.values(),
        json_model=Invoice,
    ),
)
async def export_invoice(
    rt: RuntimeDep,
    actor: Actor,
    name: str,
    fmt: Annotated[
        InvoiceFormat, Query(alias="format", description="json, csv or html (printable).")
    ] = InvoiceFormat.JSON,
) -> Response:
    """One invoice as a file to save: JSON, CSV or a printable HTML page."""
    exported = await rt.invoices.export(actor, name, fmt)
    # The printable page opens in the browser (to print); the data files are saved.
    shown = "inline" if fmt is InvoiceFormat.HTML else "attachment"
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'{shown}; filename="{exported.filename}"'},
    )


@router.post("/billing/close")
async def close_month(rt: RuntimeDep, actor: Actor, body: MonthCloseRequest) -> MonthClose:
    """Issue a month's invoices now (admins; a month is also closed by itself once over,
    and a closed month stays as it was)."""
    return await rt.invoices.close_month(actor, body.month)
