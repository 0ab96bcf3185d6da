"""``deploy call`` and ``deploy inspect`` explain a reply that breaks the protocol (which
field, which version) and ``--exchange`` shows the messages of a failed session too."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import Transport, VersionCreate
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import SETTLE_TIMEOUT, publish

SERVER = Path(__file__).resolve().parents[1] / "nonconforming_server.py"


def _version(drop: str) -> VersionCreate:
    return VersionCreate(
        version="1.0.0",
        command=[sys.executable, str(SERVER), "--port", "{port}", "--drop", drop],
        transport=Transport.STREAMABLE_HTTP,
    )


def _exchange(stdout: str) -> list[tuple[str, dict[str, object]]]:
    """The printed messages as (arrow, payload)."""
    lines = [line.split(" ", 1) for line in stdout.splitlines() if line[:1] in "→←"]
    return [(arrow, json.loads(payload)) for arrow, payload in lines]


def _wait_ready(cli: Cli, *names: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    for name in names:
        while (shown := cli.json("deploy", "show", name))["ready_replicas"] != 1:
            assert time.monotonic() < deadline, shown
            time.sleep(0.3)


async def test_a_reply_missing_a_field_is_explained_with_its_exchange(
    cli: Cli, tmp_path: Path
) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "odd-calls", _version("tools/call=resultType"))
        await publish(runtime, "odd-lists", _version("prompts/list=prompts"))
    cli("deploy", "create", "odd-calls", "--name", "calls")
    cli("deploy", "create", "odd-lists", "--name", "lists")
    _wait_ready(cli, "calls", "lists")

    call = ("deploy", "call", "calls", "add", "--arg", "a=1", "--arg", "b=2")
    failed = cli(*call, "--exchange", ok=False)
    quiet = cli(*call, ok=False)
    inspected = cli("deploy", "inspect", "lists", "--exchange", ok=False)

    explained = (
        "error: calls: its reply to tools/call does not conform to MCP 2026-07-28: "
        "result.resultType is required but missing"
    )
    assert failed.stderr.startswith(explained), failed.stderr
    assert "ValidationError" not in failed.stderr
    messages = _exchange(failed.stdout)
    [(_, request)] = [m for m in messages if m[0] == "→" and m[1].get("method") == "tools/call"]
    [(_, reply)] = [m for m in messages if m[0] == "←" and m[1].get("id") == request["id"]]
    result = reply["result"]
    assert isinstance(result, dict)
    assert result["structuredContent"] == {"result": 3}
    assert "resultType" not in result
    # Without --exchange the explanation comes alone.
    assert quiet.stderr.startswith(explained)
    assert quiet.stdout == ""

    assert inspected.stderr.startswith(
        "error: lists: its reply to prompts/list does not conform to MCP 2026-07-28: "
        "result.prompts is required but missing"
    ), inspected.stderr
    methods = [payload.get("method") for arrow, payload in _exchange(inspected.stdout)]
    assert "tools/list" in methods
    assert "prompts/list" in methods
