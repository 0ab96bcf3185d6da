"""``mcp-console deploy metrics|sessions|session-kill|inspect|call`` against a real daemon."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import MCPError

from mcp_console.backend.daemon import DaemonFiles, read_token
from mcp_console.schemas.users import Principal, Role
from tests.cli.commands import Cli
from tests.deploy.catalogs import SETTLE_TIMEOUT
from tests.gateway.helpers import Caller, connect, result_of

from .helpers import SERVICE, example_cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """A CLI whose daemon (started by its first deploy command) is stopped afterwards."""
    with example_cli(tmp_path / "data") as runner:
        yield runner


def test_live_commands_show_figures_inspect_call_and_end_sessions(cli: Cli, tmp_path: Path) -> None:
    cli("deploy", "create", SERVICE, "--name", "calc", "--runtime", "process")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "calc"))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)

    called = cli.json("deploy", "call", "calc", "add", "--arg", "a=2", "--arg", "b=40")
    assert (called["is_error"], called["structured"]) == (False, {"result": 42})
    assert any(m["payload"].get("method") == "tools/call" for m in called["exchange"])
    failed = cli("deploy", "call", "calc", "sleep", "--arg", "seconds=100", ok=False)
    assert "between 0 and 60" in failed.stdout
    assert failed.stderr == "error: sleep reported a failure\n"
    wrong = cli("deploy", "call", "calc", "add", "--arg", "a=two", "--arg", "b=1", ok=False)
    assert wrong.stderr.startswith("error: argument 'a' of add")
    assert wrong.stderr.rstrip().endswith("(a)")

    inspected = cli("deploy", "inspect", "calc").stdout
    assert "mcp-console-example 1.0.0" in inspected
    assert "add(a, b)  Add two integers." in inspected
    assert "example://info" in inspected
    assert "summarize(text)" in inspected

    metrics = cli.json("deploy", "metrics", "calc")
    assert sum(p["requests"] for p in metrics["points"]) >= 3
    assert len(metrics["instances"]) == 1
    assert metrics["instances"][0]["memory_mb"] > 5

    asyncio.run(_kill_a_session_through_the_cli(cli, shown["endpoint_url"], tmp_path / "data"))
    missing = cli("deploy", "session-kill", "calc", "no-such-session", ok=False)
    assert missing.stderr == "error: calc has no session 'no-such-session' (session)\n"


async def _kill_a_session_through_the_cli(cli: Cli, endpoint: str, data_dir: Path) -> None:
    token = read_token(DaemonFiles(data_dir))
    assert token is not None
    admin = Caller(Principal(user_id=0, name="admin", role=Role.ADMIN), token)
    async with connect(endpoint, admin, "legacy") as client:
        assert await result_of(client, "add", {"a": 1, "b": 1}) == 2
        (session,) = json.loads(
            (await asyncio.to_thread(cli, "deploy", "sessions", "calc", "--json")).stdout
        )
        assert session["state"] == "active"
        listed = (await asyncio.to_thread(cli, "deploy", "sessions", "calc")).stdout
        assert session["id"] in listed
        await asyncio.to_thread(cli, "deploy", "session-kill", "calc", session["id"])
        with pytest.raises(MCPError, match="Session not found"):
            await client.call_tool("add", {"a": 1, "b": 1})
