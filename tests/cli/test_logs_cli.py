"""``logs search`` and ``deploy logs`` read the kept lines; bad queries are named."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.monitor.log_helpers import seed_logs


async def _seed(data_dir: Path) -> None:
    async with Runtime(Settings(data_dir=data_dir)) as runtime:
        await seed_logs(runtime)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on a data dir whose store holds alice's lines (no daemon: it reads the file)."""
    asyncio.run(_seed(tmp_path / "data"))
    return Cli(tmp_path / "data", "logs-cli")


def test_search_prints_the_matching_lines_oldest_first(cli: Cli) -> None:
    found = cli("logs", "search", "/reset|full/").stdout.splitlines()
    severe = cli.json("logs", "search", "--deployment", "alice/web", "--level", "warn")
    inverse = cli.json("logs", "search", "-d", "alice/web", "!/^(INFO|tools)/", "--since", "2h")
    tail = cli("deploy", "logs", "alice/web", "--tail", "2").stdout.splitlines()

    assert [line.split(" ", 2)[2] for line in found] == [
        "alice/web web-1 ERROR ERROR connection reset by peer",
        "alice/db db-1 ERROR ERROR disk full",
    ]
    assert [line["text"] for line in severe] == [
        "ERROR connection reset by peer",
        "WARN retry 3 of 5",
    ]
    assert [line["text"] for line in inverse] == ["WARN retry 3 of 5"]
    assert [line.split(" ", 2)[2] for line in tail] == [
        "web-1 INFO  tools/call tool=echo status=200",
        "web-1 INFO  INFO request took 120ms",
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--level", "loud"],
            "error: unknown log level 'loud'; use one of debug, info, warn, error (level)",
        ),
        (
            ["/(unclosed/"],
            "error: invalid regex /(unclosed/: missing ), unterminated subpattern at position 0"
            " (text)",
        ),
        (
            ["--since", "soon"],
            "error: since 'soon' is neither a duration (30d, 12h, 90m or 2w) nor an ISO 8601"
            " time (since)",
        ),
        (["-d", "nobody/nothing"], "error: no deployment named 'nobody/nothing' (name)"),
    ],
)
def test_a_bad_query_is_refused_naming_what_is_wrong(cli: Cli, args: list[str], said: str) -> None:
    refused = cli("logs", "search", *args, ok=False)
    assert refused.stderr == said + "\n"
    assert refused.stdout == ""
