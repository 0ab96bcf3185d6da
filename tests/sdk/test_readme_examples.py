"""The README's Python SDK examples run as they are written, on a daemon they start."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

from mcp_console.backend.daemon import DaemonFiles, read_info, read_token
from tests.cli.commands import Cli, stop_daemon

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Python SDK"


def sdk_examples() -> list[str]:
    """The Python code blocks of the README's SDK section, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{SECTION}\n")
    end = text.index("\n## ", start + len(SECTION))
    return re.findall(r"^```python\n(.*?)^```$", text[start:end], flags=re.M | re.S)


def test_the_readme_shows_the_sdk_sync_async_and_remote() -> None:
    examples = sdk_examples()
    assert len(examples) == 3
    assert "with Console() as console" in examples[0]
    assert "async with AsyncConsole(" in examples[1]
    assert "Console(os.environ[" in examples[2]


def test_the_readme_examples_run(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = Cli(data_dir, "test-" + uuid.uuid4().hex[:10]).env
    outputs: list[str] = []
    try:
        for number, code in enumerate(sdk_examples(), 1):
            if number == 3:
                # The remote example reaches the daemon the first one started, by its URL.
                files = DaemonFiles(data_dir)
                info = read_info(files)
                assert info is not None
                env = {**env, "DAEMON_URL": info.url, "DAEMON_TOKEN": read_token(files) or ""}
            run = subprocess.run(
                [sys.executable, "-c", code],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=tmp_path,
            )
            assert run.returncode == 0, (number, run.stdout, run.stderr)
            outputs.append(run.stdout)
    finally:
        stop_daemon(data_dir)
    started, listed, remote = outputs
    # The first started the daemon (none ran), published, deployed and called a tool.
    assert started.splitlines() == [
        "acting as admin",
        "io.github.acme/calc 1.0.0",
        "{'result': 42}",
    ]
    assert "calc RUNNING" in listed
    assert "refused: no deployment named 'no-such'" in listed
    assert re.search(r"admin deployment\.created calc$", listed, flags=re.M)
    assert remote == "ok admin\n"
    assert (data_dir / "daemon.log").exists()
