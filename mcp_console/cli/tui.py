"""Starting the TUI: a local daemon's client if one answers, else an embedded backend's."""

from __future__ import annotations

from mcp_console.app import ConsoleApp
from mcp_console.backend.runtime import Runtime
from mcp_console.cli.context import acting_user, daemon_client
from mcp_console.client.local import LocalClient
from mcp_console.settings import Settings


async def run_console(settings: Settings) -> None:
    """Run the console on the daemon serving this data dir when one answers; otherwise on an
    embedded backend sharing the app's event loop, with its controller running so that what
    the console deploys converges while it is open.
    """
    remote = await daemon_client(settings)
    if remote is not None:
        async with remote:
            await ConsoleApp(remote).run_async()
        return
    async with Runtime(settings, background=True) as runtime:
        actor = await acting_user(runtime, settings)
        await ConsoleApp(LocalClient(runtime, actor)).run_async()
