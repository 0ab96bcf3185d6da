"""``deploy create/update --audit-arguments``: what ``audit list`` then shows of each call."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.monitor.test_audit_calls import calls

from ..catalogs import SETTLE_TIMEOUT, process_version, publish


def refused_usage(cli: Cli, *args: str) -> str:
    """What the CLI says refusing a bad option value (before it reaches any backend)."""
    result = subprocess.run(
        [sys.executable, "-m", "mcp_console", *args],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    return " ".join(result.stderr.replace("│", " ").split())


async def test_the_policy_set_and_changed_from_the_command_line_applies_to_calls(
    cli: Cli, tmp_path: Path
) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        await publish(runtime, "svc", process_version("1.0.0"))
    cli("deploy", "create", "svc", "--name", "web", "--audit-arguments", "redacted")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "web"))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    key = cli.json("key", "create", "--name", "calls")["api_key"]

    await calls(shown["endpoint_url"], key, ("echo", {"text": "hello", "token": "t-0p3n-5esame"}))
    changed = cli.json("deploy", "update", "web", "--audit-arguments", "none")
    await calls(shown["endpoint_url"], key, ("echo", {"text": "not kept"}))
    listed = cli.json("audit", "list", "--kind", "tool.call")
    lines = cli("audit", "list", "--kind", "tool.call").stdout.splitlines()
    nothing = cli("deploy", "update", "web", ok=False)

    assert shown["audit_arguments"] == "redacted"
    assert (changed["audit_arguments"], changed["version"]) == ("none", "1.0.0")
    kept, dropped = reversed(listed)
    assert kept["detail"]["arguments"] == {"text": "hello", "token": MASK}
    assert "arguments" not in dropped["detail"]
    # The human listing shows the masked arguments as they were given, newest first.
    assert lines[1].endswith(f'arguments={{"text":"hello","token":"{MASK}"}}')
    assert "arguments" not in lines[0]
    assert "t-0p3n-5esame" not in "".join(cli.printed)
    assert nothing.stderr == ("error: give a VERSION to roll out, --audit-arguments, or both\n")


def test_a_bad_policy_is_refused_naming_the_option(cli: Cli) -> None:
    on_create = refused_usage(
        cli, "deploy", "create", "svc", "--name", "web", "--audit-arguments", "all"
    )
    on_update = refused_usage(cli, "deploy", "update", "web", "--audit-arguments", "secret")

    for said, value in ((on_create, "all"), (on_update, "secret")):
        assert "Invalid value for '--audit-arguments'" in said
        assert f"'{value}' is not one of 'digest', 'redacted', 'none'" in said
