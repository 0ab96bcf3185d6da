"""``mcp-console docs DEPLOYMENT | SERVICE@VERSION``: docs of a deployment, read through the
gateway, or of a catalog version deployed for as long as that takes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.commands import Cli
from tests.deploy.catalogs import SETTLE_TIMEOUT
from tests.docs.helpers import GOLDEN, golden
from tests.live.helpers import SERVICE, example_cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """A CLI whose daemon (started by its first deploy command) is stopped afterwards."""
    with example_cli(tmp_path / "data") as runner:
        yield runner


def test_docs_of_a_deployment_match_the_servers_and_pass_the_check(cli: Cli) -> None:
    cli("deploy", "create", SERVICE, "--name", "calc", "--runtime", "process")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "calc"))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)

    assert cli("docs", "calc").stdout == golden("example.md")
    checked = cli("docs", "calc", "--check", str(GOLDEN / "time.json"), ok=False).stdout
    assert checked.startswith(f"10 definition(s) differ from {GOLDEN / 'time.json'}:")
    assert "removed tool get_current_time" in checked.splitlines()
    assert cli("docs", "calc", "--check", str(GOLDEN / "example.json")).stdout.endswith(
        "holds (8 definitions)\n"
    )


def test_a_catalog_version_is_deployed_while_it_is_documented(cli: Cli) -> None:
    documented = cli("docs", f"{SERVICE}@1.0.0")
    latest = cli("docs", f"{SERVICE}@latest", "--check", str(GOLDEN / "example.json"))

    assert documented.stdout == golden("example.md")
    assert latest.stdout.endswith("holds (8 definitions)\n")
    # Each was deployed for the reading alone, and is gone.
    assert cli.json("deploy", "list") == []
    missing = cli("docs", f"{SERVICE}@9.9.9", ok=False).stderr
    assert missing == f"error: {SERVICE} has no version 9.9.9 (version)\n"
    assert cli("docs", SERVICE, ok=False).stderr == (
        f"error: no deployment named {SERVICE!r}; a catalog service is written "
        "SERVICE@VERSION or SERVICE@latest (name)\n"
    )
