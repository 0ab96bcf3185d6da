"""A pytest module that replays a recording against its server and fails on a difference."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mcp_console.devtools.recording import dumps
from mcp_console.schemas.recording import Recording

TEMPLATE = '''"""Replays a recorded MCP session against {shown} and fails when an answer differs.

Written by 'mcp-console record --to-pytest'; run it with pytest. Recorded against
{recorded}.
"""

# ruff: noqa: E501

from mcp_console.cli.targets import parse_target, with_server
from mcp_console.devtools.compare import parse_path
from mcp_console.devtools.recording import loads
from mcp_console.devtools.replay import replay, report_text

TARGET = {target!r}
COMMAND = {command!r}
IGNORE = {ignore!r}
RECORDING = (
{lines}
)


def test_{name}_answers_as_recorded() -> None:
    recording = loads(RECORDING, "the recording")
    rules = [parse_path(text) for text in IGNORE]
    target = parse_target(TARGET, COMMAND, [])
    report = with_server(target, lambda server: replay(recording, server, ignore=rules))
    assert report.same, report_text(report, "the recording")
'''


def identifier(label: str) -> str:
    """A Python identifier from a server's label."""
    words = re.findall(r"[a-z0-9]+", label.lower().rsplit("/", 1)[-1]) or ["server"]
    name = "_".join(words)[:40]
    return f"server_{name}" if name[0].isdigit() else name


def pytest_module(
    recording: Recording,
    *,
    target: str | None,
    command: Sequence[str] | None,
    ignore: Sequence[str] = (),
) -> str:
    """The test module's text: ``recording`` replayed against ``target`` or ``command``."""
    lines = "\n".join(f"    {line!r}" for line in dumps(recording).splitlines(keepends=True))
    shown = " ".join(command) if command else target or "its server"
    return TEMPLATE.format(
        shown=shown,
        recorded=recording.header.target,
        target=None if command else target,
        command=list(command) if command else None,
        ignore=list(ignore),
        lines=lines,
        name=identifier(recording.header.server_name or shown),
    )
