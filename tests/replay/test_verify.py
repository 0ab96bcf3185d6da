"""``deploy update --verify-with``: a version whose replay differs never gets the traffic; an
identical one is rolled out; recordings made through a deployment's endpoint."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import Transport, VersionCreate
from mcp_console.settings import Settings
from tests.cli.commands import Cli, stop_daemon
from tests.deploy.catalogs import SETTLE_TIMEOUT, publish
from tests.replay.helpers import CHANGED, EXAMPLE

SERVICE = "example"


def _version(version: str, command: tuple[str, ...]) -> VersionCreate:
    return VersionCreate(version=version, command=list(command), transport=Transport.STDIO)


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """Commands on a catalog whose example has 1.0.0, an identical 1.0.1 and a 1.1.0 whose
    echo answers in capitals; the daemon they start is stopped at the end."""
    data_dir = tmp_path / "data"

    async def catalog() -> None:
        async with Runtime(Settings(data_dir=data_dir)) as runtime:
            await publish(
                runtime,
                SERVICE,
                _version("1.0.0", EXAMPLE),
                _version("1.0.1", EXAMPLE),
                _version("1.1.0", CHANGED),
            )

    asyncio.run(catalog())
    try:
        yield Cli(data_dir, "verify-" + uuid.uuid4().hex[:10])
    finally:
        stop_daemon(data_dir)


def _settled(cli: Cli, name: str, version: str) -> dict[str, object]:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        shown: dict[str, object] = cli.json("deploy", "show", name)
        if shown["version"] == version and shown["ready_replicas"] == 1:
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)


def test_verify_with_blocks_a_changed_version_and_rolls_out_an_identical_one(
    cli: Cli, tmp_path: Path
) -> None:
    recording = tmp_path / "calc.jsonl"
    cli("deploy", "create", f"{SERVICE}@1.0.0", "--name", "calc", "--runtime", "process")
    _settled(cli, "calc", "1.0.0")
    cli("inspect", "calc", "--call", "echo", "text=hi", "--record", str(recording))

    blocked = cli("deploy", "update", "calc", "1.1.0", "--verify-with", str(recording), ok=False)

    assert json.loads(recording.read_text().splitlines()[0])["target"] == "calc"
    assert blocked.stdout.splitlines() == [
        f"example@1.1.0 answers differently from {recording}: 1 of 2 call(s) differ",
        "  #2 tools/call echo",
        '    $.content[0].text: recorded "hi", now "HI"',
        '    $.structuredContent.result: recorded "hi", now "HI"',
    ]
    assert blocked.stderr.splitlines()[-1] == (
        f"error: update blocked: example@1.1.0 answered {recording} differently, so calc "
        "stays on 1.0.0 and no traffic moved (verify-with)"
    )
    shown = cli.json("deploy", "show", "calc")
    assert (shown["version"], shown["target_version"]) == ("1.0.0", None)
    assert [d["name"] for d in cli.json("deploy", "list")] == ["calc"]
    assert cli.json("deploy", "history", "calc")[-1]["action"] != "update"

    passed = cli("deploy", "update", "calc", "1.0.1", "--verify-with", str(recording))

    assert "example@1.0.1 answers as recorded (2 call(s)); updating calc" in passed.stderr
    _settled(cli, "calc", "1.0.1")
    assert [d["name"] for d in cli.json("deploy", "list")] == ["calc"]
    # The keys minted for each session at an endpoint work no more.
    minted = [k for k in cli.json("key", "list") if k["name"].startswith("mcp-console session")]
    assert len(minted) == 3  # inspect, then each verification
    assert {k["state"] for k in minted} == {"revoked"}
    replayed = cli("replay", str(recording))
    assert replayed.stdout == f"calc answers as recorded in {recording}: 2 call(s) match\n"
