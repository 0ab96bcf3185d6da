"""``mcp-console docs``: documents and snapshots from a server, the ``--check`` gate, bad input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.cli.commands import Cli
from tests.deploy.helpers import EXAMPLE_COMMAND
from tests.docs.helpers import GOLDEN, example_over_http, free_port, golden


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The command line on an empty data dir."""
    return Cli(tmp_path / "data", "docs-cli")


def test_out_writes_the_document_and_the_snapshot_beside_it(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "site"

    written = cli("docs", "--format", "html", "--out", str(out), "--", *EXAMPLE_COMMAND)

    assert written.stdout == f"wrote {out / 'api.html'}\nwrote {out / 'definitions.json'}\n"
    assert (out / "api.html").read_text() == golden("example.html")
    assert (out / "definitions.json").read_text() == golden("example.json")
    assert sorted(p.name for p in out.iterdir()) == ["api.html", "definitions.json"]


def test_check_passes_when_the_server_lists_what_was_published(cli: Cli) -> None:
    checked = cli("docs", "--check", str(GOLDEN / "example.json"), "--", *EXAMPLE_COMMAND)

    assert checked.stdout == (
        f"the server lists what {GOLDEN / 'example.json'} holds (8 definitions)\n"
    )


def test_check_fails_with_a_diff_after_a_tool_description_changes(cli: Cli, tmp_path: Path) -> None:
    flag = tmp_path / "drifted"
    flag.touch()  # the example server then describes echo differently

    failed = cli(
        "docs",
        "--check",
        str(GOLDEN / "example.json"),
        "--",
        *EXAMPLE_COMMAND,
        "--drift-flag",
        str(flag),
        ok=False,
    )

    lines = failed.stdout.splitlines()
    assert lines[0] == f"1 definition(s) differ from {GOLDEN / 'example.json'}:"
    assert "changed tool echo" in lines
    assert [x.strip() for x in lines if x.strip().startswith(("---", "+++"))] == [
        "--- published tool echo",
        "+++ listed tool echo",
    ]
    assert '-  "description": "Return the text unchanged.",' in [x.strip() for x in lines]
    assert any(
        x.strip().startswith('+  "description": "Return the text unchanged. Always send')
        for x in lines
    )


def test_check_fails_against_an_edited_snapshot_and_names_each_difference(
    cli: Cli, tmp_path: Path
) -> None:
    published = json.loads(golden("example.json"))
    published["tools"][0]["description"] = "Add two numbers."  # add
    published["prompts"] = []  # summarize was not published
    edited = tmp_path / "published.json"
    edited.write_text(json.dumps(published))

    failed = cli("docs", "--check", str(edited), "--", *EXAMPLE_COMMAND, ok=False)

    changes = [x for x in failed.stdout.splitlines() if x and not x.startswith(" ")]
    assert changes == [
        f"2 definition(s) differ from {edited}:",
        "added prompt summarize",
        "changed tool add",
    ]


def test_a_url_gives_the_same_document_and_check(cli: Cli) -> None:
    async def over_http() -> tuple[str, str]:
        async with example_over_http() as url:
            md = await asyncio.to_thread(cli, "docs", url)
            check = await asyncio.to_thread(
                cli, "docs", url, "--check", str(GOLDEN / "example.json")
            )
            return md.stdout, check.stdout

    md, check = asyncio.run(over_http())

    assert md == golden("example.md")
    assert check.endswith("holds (8 definitions)\n")


def test_bad_input_is_named(cli: Cli, tmp_path: Path) -> None:
    port = free_port()
    snapshot = str(GOLDEN / "example.json")
    not_json = tmp_path / "notes.md"
    not_json.write_text("# notes\n")

    def error(*args: str) -> str:
        return cli("docs", *args, ok=False).stderr

    assert error(f"http://127.0.0.1:{port}/mcp").startswith(
        f"error: http://127.0.0.1:{port}/mcp did not answer as an MCP server: "
    )
    assert error("ftp://example.org/mcp") == (
        "error: 'ftp://example.org/mcp' is not an MCP server's URL: give "
        "http(s)://HOST[:PORT]/PATH (target)\n"
    )
    assert error("--", "no-such-mcp-server") == (
        "error: 'no-such-mcp-server' is not a program found on PATH (command)\n"
    )
    assert error("--", "false").startswith("error: 'false' did not answer as an MCP server: ")
    assert error() == (
        "error: give the server: a URL, a deployment (NAME or OWNER/NAME), or -- COMMAND "
        "ARGS (target)\n"
    )
    assert error("calc", "--", *EXAMPLE_COMMAND).startswith(
        "error: give a URL or deployment ('calc') or a command after --, not both"
    )
    assert error("--check", str(tmp_path / "missing.json"), "--", *EXAMPLE_COMMAND) == (
        f"error: cannot read {tmp_path / 'missing.json'}: No such file or directory (check)\n"
    )
    assert error("--check", str(not_json), "--", *EXAMPLE_COMMAND).startswith(
        f"error: {not_json} is not a definitions snapshot (write one with 'mcp-console docs "
        "TARGET --format json'): "
    )
    assert error("--check", snapshot, "--out", str(tmp_path), "--", *EXAMPLE_COMMAND) == (
        "error: --check compares and writes nothing: leave out --out (out)\n"
    )
    assert error("-H", "Bearer s3cret", f"http://127.0.0.1:{port}/mcp") == (
        "error: a header is NAME: VALUE (e.g. 'Authorization: Bearer KEY'), not 'Bearer'... "
        "(header)\n"
    )
    assert error("-H", "Authorization: Bearer k", "--", *EXAMPLE_COMMAND) == (
        "error: --header goes with a URL only (header)\n"
    )
    assert error("no-such-deployment").startswith("error: no deployment named 'no-such-deployment'")
