"""A catalog value that is an instruction, met from the command line: asked for, then run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.cli.commands import Cli

from ..catalogs import SETTLE_TIMEOUT

HINT = "<your IANA time zone, e.g. Europe/Paris>"
SERVER = {
    "name": "io.github.acme/time",
    "description": "The time, in a zone of your choice",
    "version": "1.0.0",
    "packages": [
        {
            "registryType": "pypi",
            "identifier": "mcp-server-time",
            "version": "2026.10.19",
            "transport": {"type": "stdio"},
            "packageArguments": [
                {
                    "type": "named",
                    "name": "--local-timezone",
                    "value": HINT,
                    "description": "The zone times are given in",
                }
            ],
        }
    ],
}


def test_an_instruction_in_the_catalog_is_a_value_to_give(cli: Cli, tmp_path: Path) -> None:
    document = tmp_path / "server.json"
    document.write_text(json.dumps(SERVER))
    cli("catalog", "import", str(document))

    refused = cli("deploy", "create", "io.github.acme/time", "--name", "time", ok=False)
    assert (
        "config.local_timezone: required: the catalog's value "
        f"'{HINT}' is an instruction, not a value"
    ) in refused.stderr + refused.stdout
    assert cli.json("deploy", "list") == []  # nothing half-made

    cli("deploy", "create", "io.github.acme/time", "--name", "time", "--set", "local_timezone=UTC")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", "time"))["ready_replicas"] != 1:
        assert shown["status"] != "FAILED", shown
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    assert shown["config"] == {"local_timezone": "UTC"}
    cli("deploy", "delete", "time")
