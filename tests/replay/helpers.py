"""Servers to record and replay (the example server as this checkout has it) and recordings."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import mcp_console
from mcp_console.devtools import example_server

# The example server run from this checkout's file (a stdio server gets no PYTHONPATH).
EXAMPLE = (sys.executable, str(Path(example_server.__file__)))
# The same server whose echo answers in capitals: a version whose results changed.
CHANGED = (*EXAMPLE, "--echo-upper")
ROOT = Path(mcp_console.__file__).parent.parent
# ``mcp-console`` of this checkout as a stdio server's command (``env`` hands it the path).
CONSOLE = ("env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "mcp_console")
TIMEOUT = 30.0


@asynccontextmanager
async def mock_over_http(recording: Path) -> AsyncIterator[str]:
    """``mcp-console mock FILE --http 0`` running: the URL it says it serves at."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcp_console",
        "mock",
        str(recording),
        "--http",
        "0",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(TIMEOUT):
            line = (await process.stderr.readline()).decode()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/mcp) ", line)
        assert found, line
        yield found.group(1)
    finally:
        process.terminate()
        await process.wait()
