"""``mcp-console --inspect``: what names no server is refused before the console starts."""

from __future__ import annotations

from pathlib import Path

from tests.cli.commands import Cli


def test_a_target_that_names_no_server_is_refused_on_stderr(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "console-inspect")

    missing = cli("--inspect", "no-such-mcp-server --stdio", ok=False)
    bad_url = cli("--inspect", "ftp://127.0.0.1/mcp", ok=False)
    with_command = cli("--inspect", "http://127.0.0.1:8000/mcp", "deploy", "list", ok=False)

    assert "'no-such-mcp-server' is not a program found on PATH" in missing.stderr
    assert "'ftp://127.0.0.1/mcp' is not an MCP server's URL" in bad_url.stderr
    assert "--inspect start the console" in with_command.stderr
    assert not (tmp_path / "data").exists()  # refused before any backend started
