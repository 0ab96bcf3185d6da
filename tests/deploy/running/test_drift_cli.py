"""``mcp-console deploy drift|approve`` as an operator runs them, against the daemon."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp_console.backend.runtime import Runtime
from mcp_console.devtools.example_server import DRIFTED_ECHO
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import SETTLE_TIMEOUT, pid_of_instance, process_version, publish


def drift_when(cli: Cli, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """``deploy drift web --json``, asked again until ``ready`` holds."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    report: dict[str, Any] = cli.json("deploy", "drift", "web")
    while not ready(report):
        assert time.monotonic() < deadline, report
        time.sleep(0.3)
        report = cli.json("deploy", "drift", "web")
    return report


async def test_an_operator_reads_the_diff_and_approves_the_changed_tool(
    cli: Cli, tmp_path: Path
) -> None:
    flag = tmp_path / "drift"
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "svc", process_version("1.0.0", "--drift-flag", str(flag)))
        admin = runtime.local_admin
        assert admin is not None

    created = cli.json("deploy", "create", "svc", "--name", "web", "--drift", "block")
    assert created["name"] == "web"
    first = drift_when(cli, lambda r: r["baseline_at"] is not None)
    assert (first["policy"], first["findings"]) == ("block", [])

    flag.touch()
    [instance] = cli.json("deploy", "show", "web")["instances"]
    os.kill(pid_of_instance(instance["name"]), signal.SIGKILL)
    found = drift_when(cli, lambda r: bool(r["findings"]))
    human = cli("deploy", "drift", "web").stdout
    neither = cli("deploy", "approve", "web", ok=False)
    unknown = cli("deploy", "approve", "web", "add", ok=False)
    approved = cli.json("deploy", "approve", "web", "echo")
    relaxed = cli.json("deploy", "drift", "web", "--policy", "alert")
    cli("deploy", "delete", "web")

    assert found["blocked_tools"] == ["echo"]
    [finding] = found["findings"]
    assert (finding["kind"], finding["name"], finding["change"]) == ("tool", "echo", "changed")
    assert "held back from clients: echo" in human
    assert "changed  tool echo" in human
    assert f'  +  "description": "{DRIFTED_ECHO}",' in human.splitlines()
    assert "approve either all findings or the named ones" in neither.stderr
    assert "no finding waits for approval under add (waiting: echo)" in unknown.stderr
    assert approved["blocked_tools"] == []
    assert approved["findings"][0]["approved_by"] == admin.name
    assert relaxed["policy"] == "alert"
