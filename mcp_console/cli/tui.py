"""Starting the TUI: build the backend and its client, hand the client to the app."""

from __future__ import annotations

from mcp_console.app import ConsoleApp
from mcp_console.backend.runtime import Runtime
from mcp_console.cli.context import acting_user
from mcp_console.client.local import LocalClient
from mcp_console.settings import Settings


async def run_console(settings: Settings) -> None:
    """Run the console on an embedded backend sharing the app's event loop."""
    async with Runtime(settings) as runtime:
        actor = await acting_user(runtime, settings)
        await ConsoleApp(LocalClient(runtime, actor)).run_async()
