"""The HTTP API of the headless daemon: a FastAPI app over one Runtime."""

from __future__ import annotations

from mcp_console.backend.api.factory import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
