"""The console's own sessions with a server named by URL or command (a ServerInspector)."""

from __future__ import annotations

import asyncio
import importlib
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, TypeVar

from mcp_console.schemas.errors import Unavailable
from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.server_target import ServerTarget, check_program

if TYPE_CHECKING:
    from mcp_console.devtools.inspect_session import Session

T = TypeVar("T")

# Seconds any one request may take (the CLI's default too).
TIMEOUT = 30.0
# The session's code loads the SDK: imported on a thread when first used, not with the app.
SESSION_MODULE = "mcp_console.devtools.inspect_session"
# How much of what a failed stdio server wrote on stderr its error repeats.
STDERR_LINES = 5
STDERR_CHARS = 600


async def _ready(target: ServerTarget) -> None:
    """Check ``target``'s program and load the session's code, both off the loop."""
    if target.command:
        await asyncio.to_thread(check_program, target.command)
    await asyncio.to_thread(importlib.import_module, SESSION_MODULE)


def _last_words(errlog: IO[str]) -> str:
    """The last lines a server wrote to ``errlog`` (blocking: run it on a thread)."""
    errlog.seek(0)
    lines = [line.strip() for line in errlog.read().splitlines() if line.strip()]
    return " | ".join(lines[-STDERR_LINES:])[-STDERR_CHARS:]


class LocalInspector:
    """Opens each session from this process, as the console's user (a ServerInspector).

    A stdio server's stderr goes to a temporary file, not to the console's terminal; when
    the session fails, its last lines are part of the error (a traceback's last words).
    """

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    async def _run(self, target: ServerTarget, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` with a new session with ``target`` (its program checked first)."""
        await _ready(target)
        from mcp_console.devtools import inspect_session  # loaded by _ready

        if not target.command:
            return await work(inspect_session.Session(target))
        errlog = await asyncio.to_thread(tempfile.TemporaryFile, "w+", errors="replace")
        try:
            return await work(inspect_session.Session(target, errlog=errlog))
        except Unavailable as error:
            said = await asyncio.to_thread(_last_words, errlog)
            if not said:
                raise
            raise Unavailable(
                f"{error.message}; its stderr ends: {said}", details=error.details
            ) from None
        finally:
            errlog.close()

    async def inspect(self, target: ServerTarget) -> InspectReport:
        """List what ``target``'s server offers."""

        async def listed(session: Session) -> InspectReport:
            from mcp_console.devtools import inspect_session  # loaded by _run

            return await inspect_session.inspect(session, timeout=self.timeout)

        return await self._run(target, listed)

    async def call(
        self, target: ServerTarget, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call ``tool`` of ``target``'s server with ``arguments``."""

        def typed(_schema: Mapping[str, Any] | None) -> dict[str, Any]:
            return arguments  # the console's form typed them by the schema already

        async def called(session: Session) -> ToolCallOutcome:
            from mcp_console.devtools import inspect_session  # loaded by _run

            return await inspect_session.call(session, tool, typed, timeout=self.timeout)

        return await self._run(target, called)
