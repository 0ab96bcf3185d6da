"""ServerInspector: sessions the console opens itself with a server named by URL or command."""

from __future__ import annotations

from typing import Any, Protocol

from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.server_target import ServerTarget


class ServerInspector(Protocol):
    """Inspects an MCP server from where the console runs, as its user.

    Not a ConsoleClient operation on purpose: a daemon never starts a command nor opens a
    URL that a client names; the console does, on its own machine.
    """

    async def inspect(self, target: ServerTarget) -> InspectReport:
        """List the tools, resources and prompts of ``target``'s server.

        Args:
            target: a Streamable HTTP URL (with its headers) or a stdio command.

        Returns:
            What the server offers, with the session's exchange.

        Raises:
            Invalid: the command's program is not found.
            Unavailable: the server could not be reached or did not answer as an MCP server.
        """
        ...

    async def call(
        self, target: ServerTarget, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call ``tool`` of ``target``'s server with ``arguments``.

        Args:
            target: a Streamable HTTP URL (with its headers) or a stdio command.
            tool: the tool's name.
            arguments: its arguments, already typed.

        Returns:
            The tool's answer (a failure it reports is an answer too) and the exchange.

        Raises:
            Invalid: no such tool, an argument does not fit its schema, or the command's
                program is not found.
            Unavailable: the server could not be reached or did not answer as an MCP server.
        """
        ...
