"""``mcp-console deploy …`` as a user runs it: the daemon starts on first need, JSON out."""

from __future__ import annotations

import json
import time
from pathlib import Path

from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.settings import Settings
from tests.cli.commands import Cli

from ..catalogs import SECRET_SCHEMA, SETTLE_TIMEOUT, publish, shell_version

TOKEN = "cli-secret-91c2e7aa"


async def test_deploy_commands_drive_the_daemon_and_never_print_a_secret(
    cli: Cli, tmp_path: Path
) -> None:
    async with Runtime(Settings(data_dir=tmp_path / "data")) as runtime:
        script = 'echo "token $API_TOKEN region $REGION" >&2'
        await publish(runtime, "svc", shell_version("1.0.0", script, schema=SECRET_SCHEMA))

    created = cli(
        "deploy",
        "create",
        "svc@1.0.0",
        "--name",
        "web",
        "--set",
        "region=us",
        "--secret",
        f"api_token={TOKEN}",
        "--json",
    )
    bad = cli(
        "deploy",
        "create",
        "svc",
        "--name",
        "other",
        "--set",
        "region=mars",
        "--secret",
        "api_token=x",
        ok=False,
    )
    deadline = time.monotonic() + SETTLE_TIMEOUT
    # The instance turns healthy first; the deployment's status follows on the next turn.
    while (shown := cli.json("deploy", "show", "web"))["status"] != "RUNNING":
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    listed = cli.json("deploy", "list")
    logs = cli.json("deploy", "logs", "web")
    scaled = cli.json("deploy", "scale", "web", "2")
    history = cli.json("deploy", "history", "web")
    human = cli("deploy", "show", "web").stdout
    cli("deploy", "delete", "web")
    after = cli.json("deploy", "list")

    assert "started the mcp-console daemon" in created.stderr
    detail = json.loads(created.stdout)
    assert (detail["name"], detail["status"], detail["version"]) == ("web", "DEPLOYING", "1.0.0")
    assert detail["config"] == {"region": "us", "workers": 2, "api_token": MASK}
    assert bad.stderr.startswith("error: config.region: must be one of eu, us")
    assert shown["ready_replicas"] == 1
    assert [d["name"] for d in listed] == ["web"]
    assert f"token {MASK} region us" in [line["text"] for line in logs]
    assert scaled["replicas"] == 2
    assert [e["action"] for e in history] == ["scale", "create"]
    assert history[1]["changes"]["secrets"] == ["api_token"]
    assert "RUNNING" in human
    assert after == []
    assert not any(TOKEN in text for text in cli.printed)
