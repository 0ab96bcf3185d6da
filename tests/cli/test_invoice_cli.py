"""``billing invoices``, ``billing invoice`` and ``billing close``: the backend's figures,
files that open and add up, and refusals naming what is wrong."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.billing.periods import month_start
from mcp_console.backend.runtime import Runtime
from mcp_console.client.local import LocalClient
from mcp_console.settings import Settings
from tests.billing.invoice_world import this_months_calls
from tests.cli.commands import Cli


async def _seed(data_dir: Path) -> dict[str, Any]:
    """The admin's calls this month to a PAID deployment; what LocalClient reads of them."""
    async with Runtime(Settings(data_dir=data_dir)) as runtime:
        admin = runtime.local_admin
        assert admin is not None
        number = await this_months_calls(runtime, admin)
        shown = await LocalClient(runtime, admin).billing_invoice(number)
        return shown.model_dump(mode="json")


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Cli, dict[str, Any]]:
    """The CLI on a data dir holding this month's calls (no daemon: each command reads it)."""
    local = asyncio.run(_seed(tmp_path / "data"))
    return Cli(tmp_path / "data", "invoice-cli"), local


def test_the_cli_shows_the_clients_figures_and_writes_files_that_add_up(
    seeded: tuple[Cli, dict[str, Any]], tmp_path: Path
) -> None:
    cli, local = seeded
    number = local["id"]

    listed = cli.json("billing", "invoices")
    shown = json.loads(cli("billing", "invoice", number, "--format", "json").stdout)
    table = cli("billing", "invoice", number).stdout
    saved = cli("billing", "invoice", number, "--out", str(tmp_path / "bill.csv")).stdout
    page = cli("billing", "invoice", number, "-f", "html").stdout

    assert [(i["id"], i["status"], i["total"]) for i in listed] == [(number, "draft", "0.09")]
    assert shown == local
    assert "admin/paid" in table
    assert "total" in table
    assert saved.strip() == f"wrote {tmp_path / 'bill.csv'} (csv)"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "bill.csv").read_text())))
    lines = sum(Decimal(r["amount"]) for r in rows if r["row"] == "line")
    assert lines == Decimal(next(r["amount"] for r in rows if r["row"] == "total"))
    assert lines == Decimal("0.09")  # 7 calls x 0.0125
    assert page.startswith("<!DOCTYPE html>")


def test_closing_a_month_issues_it_once(seeded: tuple[Cli, dict[str, Any]]) -> None:
    cli, _ = seeded
    previous = f"{month_start(datetime.now(UTC)) - timedelta(hours=1):%Y-%m}"

    first = cli.json("billing", "close", "--month", previous)
    again = cli("billing", "close", "--month", previous).stdout

    assert (first["month"], first["invoices"], first["already"]) == (previous, 0, False)
    assert again.startswith(f"{previous} was closed at ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["billing", "invoices", "--month", "2026-13"],
            "error: month '2026-13' is not a month such as 2026-12 (month)",
        ),
        (
            ["billing", "invoice", "INV-1"],
            "error: id 'INV-1' is not an invoice number such as INV-202612-U000042 (id)",
        ),
        (
            ["billing", "invoice", "INV-202501-U000001"],
            "error: no invoice INV-202501-U000001: no billable calls of its user or team in "
            "2025-01 (id)",
        ),
        (
            ["billing", "close", "--month", f"{datetime.now(UTC):%Y-%m}"],
            f"error: month {datetime.now(UTC):%Y-%m} is not over until ",
        ),
    ],
)
def test_bad_input_is_refused_naming_it(
    seeded: tuple[Cli, dict[str, Any]], args: list[str], said: str
) -> None:
    cli, _ = seeded
    assert cli(*args, ok=False).stderr.startswith(said)
