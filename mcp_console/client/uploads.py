"""A file's bytes as an async stream of chunks, read off the event loop (for uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio

CHUNK_BYTES = 1 << 16


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    """The bytes of ``path``, a chunk at a time."""
    async with await anyio.open_file(path, "rb") as source:
        while chunk := await source.read(CHUNK_BYTES):
            yield chunk
