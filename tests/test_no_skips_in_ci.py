"""A run that requires Docker and PostgreSQL (as CI does) fails on any skipped test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
SKIPPING = """
import pytest

def test_passes():
    assert True

def test_skips():
    pytest.skip("not here")
"""


def _run(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "CI" and not k.startswith(("MCP_CONSOLE_REQUIRE_", "PYTEST_"))
    }
    env.update(extra, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_local_run_may_skip_what_it_lacks(tmp_path: Path) -> None:
    assert _run(tmp_path).returncode == pytest.ExitCode.OK


@pytest.mark.parametrize(
    "required",
    [{"CI": "true"}, {"MCP_CONSOLE_REQUIRE_DOCKER": "1", "MCP_CONSOLE_REQUIRE_POSTGRES": "1"}],
)
def test_a_run_that_requires_the_services_fails_on_a_skip(
    tmp_path: Path, required: dict[str, str]
) -> None:
    run = _run(tmp_path, **required)
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert "skipped where nothing may be: test_skipping.py::test_skips" in run.stderr
