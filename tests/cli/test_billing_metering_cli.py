"""``billing metering``: whether metering is durable, and the calls crashes lost, as found."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tests.cli.commands import Cli


def test_the_metering_state_shows_the_calls_a_crash_lost(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cli = Cli(data_dir, "metering-cli", MCP_CONSOLE_BILLING__DURABLE_METERING="true")
    fresh = cli.json("billing", "metering")
    # As a restart records what a killed run served and never wrote.
    with contextlib.closing(sqlite3.connect(data_dir / "mcp-console.db")) as conn, conn:
        conn.execute(
            "INSERT INTO usage_journals (epoch, started_at, written_requests, written_errors,"
            " recovered_at, lost_requests, lost_errors) VALUES"
            " ('0f', '2026-12-01 10:00:00', 900, 0, '2026-12-01 11:00:00', 37, 2)"
        )
    shown = cli("billing", "metering").stdout.splitlines()
    after = cli.json("billing", "metering")

    assert (fresh["durable"], fresh["lost_calls"], fresh["losses"]) == (True, 0, [])
    assert after["lost_calls"] == 37
    assert [(loss["calls"], loss["failed"]) for loss in after["losses"]] == [(37, 2)]
    assert shown[0].startswith("Metering: durable: each billable call's usage is written")
    assert shown[1:] == [
        "Calls served and never billed after crashes: 37",
        "  run started 2026-12-01 10:00:00 UTC, found 2026-12-01 11:00:00 UTC: 37 calls (2 failed)",
    ]
