"""Docs generated from live servers (the example server over stdio and HTTP, mcp-server-time)
match the golden files, whatever order or era the server answers in."""

from __future__ import annotations

from mcp_console.devtools.docs.output import DocFormat, render
from mcp_console.devtools.docs.targets import read_command, read_url
from tests.deploy.helpers import EXAMPLE_COMMAND
from tests.docs.helpers import TIME_COMMAND, TIMEOUT, example_over_http, golden


async def test_the_example_server_over_stdio_matches_its_golden_files() -> None:
    found = await read_command(EXAMPLE_COMMAND, timeout=TIMEOUT)

    # It lists its tools in the order they were written (add, echo, counter, ...): sorted.
    assert [t["name"] for t in found.tools] == ["add", "counter", "echo", "sleep", "whoami"]
    assert render(found, DocFormat.MD) == golden("example.md")
    assert render(found, DocFormat.HTML) == golden("example.html")
    assert render(found, DocFormat.JSON) == golden("example.json")


async def test_the_example_server_over_http_gives_the_same_docs() -> None:
    async with example_over_http() as url:
        found = await read_url(url, timeout=TIMEOUT)

    assert render(found, DocFormat.MD) == golden("example.md")
    assert render(found, DocFormat.JSON) == golden("example.json")


async def test_mcp_server_time_matches_its_golden_files() -> None:
    found = await read_command(TIME_COMMAND, timeout=TIMEOUT)

    assert render(found, DocFormat.MD) == golden("time.md")
    assert render(found, DocFormat.HTML) == golden("time.html")
    assert render(found, DocFormat.JSON) == golden("time.json")
