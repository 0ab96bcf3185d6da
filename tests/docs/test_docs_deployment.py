"""``mcp-console docs DEPLOYMENT | SERVICE@VERSION``: docs of a deployment, read through the
gateway, or of a catalog version deployed for as long as that takes."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.devtools.docs.check import read_snapshot
from mcp_console.devtools.docs.published import spec_of
from mcp_console.settings import Settings
from tests.cli.commands import Cli
from tests.deploy.catalogs import SETTLE_TIMEOUT, process_version, publish
from tests.deploy.helpers import EXAMPLE_COMMAND
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


def test_check_compares_a_server_with_the_spec_its_version_published(tmp_path: Path) -> None:
    spec = spec_of(read_snapshot(GOLDEN / "example.json"))
    edited = copy.deepcopy(spec)
    edited["tools"][0]["description"] = "Something else entirely."
    data = tmp_path / "data"

    async def catalog() -> None:
        async with Runtime(Settings(data_dir=data)) as runtime:
            await publish(
                runtime,
                "specs",
                process_version("1.0.0").model_copy(update={"api_spec": spec}),
                process_version("1.1.0").model_copy(update={"api_spec": edited}),
                process_version("1.2.0"),
            )

    asyncio.run(catalog())
    with example_cli(data) as cli:
        matched = cli("docs", "--check", "specs@1.0.0", "--", *EXAMPLE_COMMAND)
        differs = cli("docs", "--check", "specs@1.1.0", "--", *EXAMPLE_COMMAND, ok=False)
        unpublished = cli("docs", "--check", "specs@latest", "--", *EXAMPLE_COMMAND, ok=False)
        unknown = cli("docs", "--check", "specs@7.0.0", "--", *EXAMPLE_COMMAND, ok=False)

    assert matched.stdout == "the server lists what specs@1.0.0 holds (8 definitions)\n"
    assert differs.returncode == 1
    lines = differs.stdout.splitlines()
    assert lines[0] == "1 definition(s) differ from specs@1.1.0:"
    assert f"changed tool {edited['tools'][0]['name']}" in lines
    assert '-  "description": "Something else entirely.",' in [line.strip() for line in lines]
    assert unpublished.stderr == (
        "error: specs@1.2.0 published no API spec to check against (its author publishes one "
        "with 'mcp-console dev publish') (check)\n"
    )
    assert unknown.stderr == (
        "error: specs has no version 7.0.0 (its versions: 1.2.0, 1.1.0, 1.0.0) (check)\n"
    )
