"""Asking a program on this machine something: its output, or nothing if it cannot answer."""

from __future__ import annotations

import asyncio
import contextlib


async def program_output(*argv: str, timeout: float) -> bytes | None:  # noqa: ASYNC109
    """The standard output of ``argv``, or ``None`` when the program is missing, fails or
    has not answered within ``timeout`` seconds (it is killed then)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    try:
        async with asyncio.timeout(timeout):
            output, _ = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None
    return output if proc.returncode == 0 else None
