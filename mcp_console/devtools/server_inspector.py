"""The console's own sessions with a server named by URL or command (a ServerInspector)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from typing import Any

from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.server_target import ServerTarget, check_program

# Seconds any one request may take (the CLI's default too).
TIMEOUT = 30.0
# The session's code loads the SDK: imported on a thread when first used, not with the app.
SESSION_MODULE = "mcp_console.devtools.inspect_session"


async def _ready(target: ServerTarget) -> None:
    """Check ``target``'s program and load the session's code, both off the loop."""
    if target.command:
        await asyncio.to_thread(check_program, target.command)
    await asyncio.to_thread(importlib.import_module, SESSION_MODULE)


class LocalInspector:
    """Opens each session from this process, as the console's user (a ServerInspector)."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    async def inspect(self, target: ServerTarget) -> InspectReport:
        """List what ``target``'s server offers."""
        await _ready(target)
        from mcp_console.devtools import inspect_session  # loaded by _ready

        session = inspect_session.Session(target)
        return await inspect_session.inspect(session, timeout=self.timeout)

    async def call(
        self, target: ServerTarget, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call ``tool`` of ``target``'s server with ``arguments``."""
        await _ready(target)
        from mcp_console.devtools import inspect_session  # loaded by _ready

        def typed(_schema: Mapping[str, Any] | None) -> dict[str, Any]:
            return arguments  # the console's form typed them by the schema already

        session = inspect_session.Session(target)
        return await inspect_session.call(session, tool, typed, timeout=self.timeout)
