"""The layering holds: headless entry points never load the TUI; import contracts are kept."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Everything that runs without a terminal: the daemon, the gateway, the runtime behind the
# local client, the remote client and the Python SDK built on it.
HEADLESS_ENTRY_POINTS = (
    "mcp_console.backend.runtime",
    "mcp_console.backend.daemon",
    "mcp_console.backend.gateway",
    "mcp_console.backend.api",
    "mcp_console.client.protocol",
    "mcp_console.client.remote",
    "mcp_console.sdk",
)
TUI_MODULES = ("textual", "mcp_console.app", "mcp_console.screens", "mcp_console.widgets")


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


EXISTING_ENTRY_POINTS = [module for module in HEADLESS_ENTRY_POINTS if _exists(module)]

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def test_the_runtime_is_a_headless_entry_point() -> None:
    assert "mcp_console.backend.runtime" in EXISTING_ENTRY_POINTS


@pytest.mark.parametrize("module", EXISTING_ENTRY_POINTS)
def test_headless_entry_point_does_not_load_the_tui(module: str) -> None:
    # A fresh interpreter: this process has long since imported whatever other tests needed.
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"importing {module} failed:\n{result.stderr}"
    loaded = json.loads(result.stdout)
    assert module in loaded
    tui = [
        name
        for name in loaded
        if any(name == tui or name.startswith(tui + ".") for tui in TUI_MODULES)
    ]
    assert tui == [], f"importing {module} loads TUI modules: {', '.join(tui[:10])}"


def _lint_imports() -> str:
    beside_python = Path(sys.executable).with_name("lint-imports")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("lint-imports")
    assert found is not None, "lint-imports is not installed (pip install -e '.[dev]')"
    return found


def test_import_contracts_are_all_kept() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    result = subprocess.run(
        [_lint_imports(), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"import contracts broken:\n{report}"
    assert f"Contracts: {len(contracts)} kept, 0 broken." in report, report


LAYERS_CONTRACT = "The backend's layers, top to bottom: deploy and gateway never import each other"


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("backend/deploy/health.py", "mcp_console.backend.gateway.routing"),
        ("backend/gateway/balancer.py", "mcp_console.backend.deploy.deployment_record"),
    ],
)
def test_the_layers_contract_breaks_when_deploy_and_gateway_meet(
    tmp_path: Path, importer: str, imported: str
) -> None:
    # A copy of the package with one forbidden import added: the contract must catch it.
    shutil.copytree(
        ROOT / "mcp_console",
        tmp_path / "mcp_console",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    module = tmp_path / "mcp_console" / importer
    module.write_text(module.read_text(encoding="utf-8") + f"\nimport {imported}  # noqa\n")
    result = subprocess.run(
        [_lint_imports(), "--no-cache", "--contract", "backend-layers"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=300,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    assert f"{LAYERS_CONTRACT} BROKEN" in report, report
    assert imported in report, report
