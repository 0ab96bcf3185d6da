"""``mcp-console deploy create --url … --header …`` as a user runs it: the daemon fronts the
server, ``deploy call`` reaches it through the gateway, and the credential is printed, logged
and stored nowhere in clear."""

from __future__ import annotations

import json
import time
from pathlib import Path

from mcp_console.backend.security.secrets import MASK
from tests.cli.commands import Cli

from ..catalogs import SETTLE_TIMEOUT
from ..remote_upstream import upstream

TOKEN = "cli-upstream-token-7f30c2"


async def test_deploy_create_url_fronts_a_server_and_never_prints_its_credential(
    cli: Cli, tmp_path: Path
) -> None:
    cli.env["MCP_CONSOLE_LOG_LEVEL"] = "debug"
    async with upstream("faraway", TOKEN) as server:
        missing = cli("deploy", "create", "--name", "nothing", ok=False)
        created = cli.json(
            "deploy",
            "create",
            "--url",
            server.url,
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--name",
            "faraway",
        )
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (shown := cli.json("deploy", "show", "faraway"))["ready_replicas"] != 1:
            assert time.monotonic() < deadline, shown
            time.sleep(0.3)
        called = cli.json("deploy", "call", "faraway", "whoami")
        human = cli("deploy", "show", "faraway").stdout
        history = cli.json("deploy", "history", "faraway")
        cli("deploy", "logs", "faraway")
        cli("deploy", "list")
        cli("deploy", "delete", "faraway")

    assert missing.stderr.startswith("error: name the SERVICE to deploy")
    assert (created["service"], created["driver"], created["replicas"]) == (
        "mcp-console/remote",
        "remote",
        1,
    )
    assert created["secret_names"] == ["header:Authorization", "url:1"]
    assert created["config"] == {"header:Authorization": MASK, "url:1": MASK}
    assert shown["instances"][0]["url"] == server.url
    assert "faraway" in json.dumps(called["content"])
    assert server.url in human
    assert history[-1]["changes"]["headers"] == ["Authorization"]
    assert history[-1]["changes"]["urls"] == [server.url]
    assert not any(TOKEN in text for text in cli.printed)
    data = tmp_path / "data"
    assert TOKEN not in (data / "daemon.log").read_text()
    assert not [p for p in data.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
