"""Running ``uv`` (the wheel on PyPI ships it) for installs resolved as of a release's date."""

from __future__ import annotations

import asyncio
import os

from mcp_console.schemas.errors import Unavailable

_TAIL_LINES = 15


class UvFailed(Exception):
    """uv exited non-zero; ``reason`` is the tail of what it said."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def uv_binary() -> str:
    """The uv executable installed with the console.

    Raises:
        Unavailable: the ``uv`` package is not installed.
    """
    try:
        from uv import find_uv_bin
    except ImportError:
        raise Unavailable("uv is not installed (pip install uv): PyPI servers need it") from None
    return str(find_uv_bin())


async def run_uv(*args: str, stdin: str | None = None) -> str:
    """Run ``uv args...`` off the loop (``stdin`` as its input); returns its standard output.

    uv never downloads a Python here (``UV_PYTHON_DOWNLOADS=never``): the interpreters are
    the machine's, chosen by the caller; it trusts the system's certificates unless the
    environment says otherwise.

    Raises:
        UvFailed: uv failed (its last lines, errors first).
        Unavailable: uv is not installed.
    """
    # The machine's trust store, not uv's bundled roots: an index behind an organisation's
    # proxy or CA is trusted as pip and the rest of the system trust it.
    trust = {"UV_SYSTEM_CERTS": "1"}
    env = {**trust, **os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    proc = await asyncio.create_subprocess_exec(
        uv_binary(),
        *args,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    output, errors = await proc.communicate(None if stdin is None else stdin.encode())
    if proc.returncode != 0:
        lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        raise UvFailed(" / ".join(lines[-_TAIL_LINES:]) or f"uv exited with {proc.returncode}")
    return output.decode("utf-8", "replace")
