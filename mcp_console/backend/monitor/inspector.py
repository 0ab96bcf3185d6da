"""InspectorService: a deployment's tools, resources and prompts, and tool calls, as its caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.deploy.deployment_record import address
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.security.internal_keys import InternalKeys
from mcp_console.schemas.errors import Forbidden, Unavailable
from mcp_console.schemas.monitor import InspectReport, ToolCallOutcome
from mcp_console.schemas.server_docs import ServerDefinitions
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway
    from mcp_console.backend.gateway.server import GatewayServer


class InspectorService:
    """Connects to a deployment through the gateway, as the user asking, and records it all.

    The inspector is a client like any other: it goes through the deployment's endpoint
    with a short-lived key of the user's, so the gateway lets it in exactly when it would
    let that user in. Where no gateway serves (a short-lived backend), it cannot connect.

    Args:
        sessions: the database.
        gateway: the gateway server while one serves, else ``None``.
        keys: short-lived keys the gateway accepts, for the inspector's own session.
        inspect_timeout: seconds the inspector waits for each answer while listing.
        call_timeout: seconds it waits for a tool call's answer (with the listing before it,
            within the API clients' 60 s).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: Callable[[], GatewayServer | None],
        keys: InternalKeys,
        *,
        inspect_timeout: float = 15.0,
        call_timeout: float = 40.0,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._keys = keys
        self.inspect_timeout = inspect_timeout
        self.call_timeout = call_timeout

    async def inspect(self, actor: Principal, name: str) -> InspectReport:
        """Connect through the deployment's endpoint as ``actor``; list what it offers.

        Returns:
            Server name and version, protocol, tools, resources and prompts, and every
            JSON-RPC message of the session.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the deployment's endpoint would refuse the actor.
            Unavailable: nothing healthy answers, or the server did not answer in time.
        """
        # The MCP SDK loads with the first inspection, not with the backend.
        from mcp_console.backend.monitor.inspector_session import run_inspect

        async with self._as_caller(actor, name) as (label, url, key, legacy):
            return await run_inspect(
                label, url, key, legacy=legacy, read_timeout=self.inspect_timeout
            )

    async def call_tool(
        self, actor: Principal, name: str, tool: str, arguments: dict[str, Any]
    ) -> ToolCallOutcome:
        """Call one tool through the deployment's endpoint as ``actor``.

        ``arguments`` are checked against the tool's input schema first. A tool that fails
        answers with ``is_error`` set.

        Returns:
            The result, how long the call took, and the session's JSON-RPC messages.

        Raises:
            NotFound: the actor has no deployment of that name.
            Invalid: no such tool (``field="tool"``), or an argument does not fit its
                schema (``field`` names the argument).
            Forbidden: the deployment's endpoint would refuse the actor.
            Unavailable: nothing healthy answers, or the server did not answer in time.
        """
        from mcp_console.backend.monitor.inspector_session import run_call

        async with self._as_caller(actor, name) as (label, url, key, legacy):
            return await run_call(
                label,
                url,
                key,
                tool,
                arguments,
                legacy=legacy,
                read_timeout=self.inspect_timeout,
                call_timeout=self.call_timeout,
            )

    async def definitions(self, actor: Principal, name: str) -> ServerDefinitions:
        """Every tool, resource, resource template and prompt the deployment lists, read
        through its endpoint as ``actor`` (what its API docs are generated from).

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the deployment's endpoint would refuse the actor.
            Unavailable: nothing healthy answers, or the server did not answer in time.
        """
        from mcp_console.backend.monitor.inspector_session import run_definitions

        async with self._as_caller(actor, name) as (label, url, key, legacy):
            return await run_definitions(
                label, url, key, legacy=legacy, read_timeout=self.inspect_timeout
            )

    async def _endpoint(self, actor: Principal, name: str) -> tuple[str, str, Gateway, bool]:
        """The deployment's label, endpoint URL, gateway, and whether it needs the handshake.

        Raises:
            NotFound: the actor has no deployment of that name.
            Forbidden: the gateway would refuse the actor (a share it has not heard of yet).
            Unavailable: no gateway serves, or nothing healthy would answer.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name, "call")
        label = address(actor, state)
        server = self._gateway()
        if server is None:
            raise Unavailable(
                f"no gateway serves {label} here: start the daemon "
                "('mcp-console daemon start') or use the console, then try again"
            )
        route = server.gateway.routes.get(state.id)
        if route is None:
            raise Unavailable(f"{label} is not served by the gateway (is it running?)")
        if not route.may_call(actor):
            raise Forbidden(
                f"{label} is not shared with {actor.name}; only those it is shared with "
                "may call its endpoint"
            )
        per_session = route.session_mode == "per-session"
        if not per_session and not route.candidates:
            raise Unavailable(f"{label} has no healthy instance to answer right now")
        return label, f"{server.url}{route.path}", server.gateway, per_session

    @asynccontextmanager
    async def _as_caller(
        self, actor: Principal, name: str
    ) -> AsyncIterator[tuple[str, str, str, bool]]:
        """The deployment's label, endpoint URL, a short-lived key of ``actor``'s, and whether
        it needs the handshake; the key is forgotten everywhere afterwards (see _endpoint)."""
        label, url, gateway, legacy = await self._endpoint(actor, name)
        async with self._keys.issued(actor) as key:
            try:
                yield label, url, key, legacy
            finally:
                gateway.auth.forget(key)
