"""The one route without authentication: is the daemon up?"""

from __future__ import annotations

import os

from fastapi import APIRouter

from mcp_console import __version__
from mcp_console.backend.api.bodies import Health

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """The daemon answers; no API key needed."""
    return Health(version=__version__, pid=os.getpid())
