"""The invoice routes: files served as a browser saves or prints them, bad input named."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.live import auth, error_of
from tests.billing.invoice_world import this_months_calls


async def test_an_invoice_file_is_served_with_its_type_and_name(api: Api) -> None:
    admin = api.runtime.local_admin
    assert admin is not None
    number = await this_months_calls(api.runtime, admin)
    path = f"/api/v1/billing/invoices/{number}/export"

    spreadsheet = await api.http.get(path, params={"format": "csv"}, headers=api.admin)
    page = await api.http.get(path, params={"format": "html"}, headers=api.admin)
    data = await api.http.get(path, headers=api.admin)

    assert spreadsheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert spreadsheet.headers["content-disposition"] == f'attachment; filename="{number}.csv"'
    rows = list(csv.DictReader(io.StringIO(spreadsheet.text)))
    assert [r["amount"] for r in rows if r["row"] in ("line", "total")] == ["0.09", "0.09"]
    # The printable page opens in the browser; JSON is the default.
    assert page.headers["content-disposition"] == f'inline; filename="{number}.html"'
    assert page.text.startswith("<!DOCTYPE html>")
    assert data.json()["total"] == "0.09"


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "field"),
    [
        ("GET", "/billing/invoices", {"month": "2026-00"}, 422, "month"),
        ("GET", "/billing/invoices", {"team": "nobody"}, 404, "team"),
        ("GET", "/billing/invoices/INV-9", {}, 422, "id"),
        ("GET", "/billing/invoices/INV-202501-U000001/export", {"format": "pdf"}, 422, "format"),
        ("POST", "/billing/close", {"month": "soon"}, 422, "month"),
        ("POST", "/billing/close", {}, 422, "month"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    api: Api, method: str, path: str, payload: dict[str, Any], status: int, field: str
) -> None:
    if method == "GET":
        response = await api.http.get(
            f"/api/v1{path}", params=payload, headers=auth(api.admin_token)
        )
    else:
        response = await api.http.post(
            f"/api/v1{path}", json=payload, headers=auth(api.admin_token)
        )
    assert response.status_code == status, response.text
    assert error_of(response)["field"] == field
