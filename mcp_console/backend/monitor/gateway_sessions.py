"""GatewaySessionService: the client sessions the gateway holds for a deployment; drain, kill."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import User
from mcp_console.backend.deploy.deployment_record import DeploymentState, address
from mcp_console.backend.deploy.lookup import find
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.monitor import SessionState, SessionView
from mcp_console.schemas.users import Principal

if TYPE_CHECKING:
    from mcp_console.backend.gateway.core import Gateway
    from mcp_console.backend.gateway.server import GatewayServer
    from mcp_console.backend.gateway.sessions import SessionInfo


class GatewaySessionService:
    """Lists the handshake-era client sessions of a deployment and ends them.

    Users see only their own deployments (an admin everyone's, as ``owner/name``). Where
    no gateway serves (a short-lived backend), a deployment has no sessions.

    Args:
        sessions: the database.
        gateway: the gateway server while one serves, else ``None``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: Callable[[], GatewayServer | None],
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway

    async def list_sessions(self, actor: Principal, name: str) -> list[SessionView]:
        """The handshake-era client sessions the gateway holds for a deployment, newest first.

        Raises:
            NotFound: the actor may see no deployment of that name.
            Forbidden: the actor is only a caller of it.
        """
        async with self._sessions() as session:
            state = await find(session, actor, name, "sessions")
            server = self._gateway()
            infos = server.gateway.list_sessions(state.id) if server is not None else []
            users = await _user_names(session, {i.user_id for i in infos})
        label = address(actor, state)
        return [_session_view(info, label, users) for info in reversed(infos)]

    async def drain_session(self, actor: Principal, name: str, session_id: str) -> SessionView:
        """Take no new work in a session once it is idle, then end it.

        Returns:
            The session, now draining.

        Raises:
            NotFound: no such deployment, or it has no session of that id.
        """
        state, gateway, info = await self._session(actor, name, session_id)
        await gateway.drain_session(info.id)
        now = next((i for i in gateway.list_sessions(state.id) if i.id == info.id), info)
        async with self._sessions() as session:
            users = await _user_names(session, {now.user_id})
        view = _session_view(now, address(actor, state), users)
        return view.model_copy(update={"state": SessionState.DRAINING})

    async def kill_session(self, actor: Principal, name: str, session_id: str) -> None:
        """End a session now: its requests in flight are cancelled, its client gets 404.

        Raises:
            NotFound: no such deployment, or it has no session of that id.
        """
        _, gateway, info = await self._session(actor, name, session_id)
        await gateway.kill_session(info.id)

    async def _session(
        self, actor: Principal, name: str, session_id: str
    ) -> tuple[DeploymentState, Gateway, SessionInfo]:
        async with self._sessions() as session:
            state = await find(session, actor, name, "sessions")
        server = self._gateway()
        if server is not None:
            for info in server.gateway.list_sessions(state.id):
                if info.id == session_id:
                    return state, server.gateway, info
        raise NotFound(f"{state.name} has no session {session_id!r}", field="session")


async def _user_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _client_label(client_info: Any) -> str | None:
    if not isinstance(client_info, dict) or not client_info.get("name"):
        return None
    version = client_info.get("version")
    return f"{client_info['name']} {version}" if version else str(client_info["name"])


def _session_view(info: SessionInfo, deployment: str, users: dict[int, str]) -> SessionView:
    return SessionView(
        id=info.id,
        deployment=deployment,
        instance=info.instance_id or None,
        state=SessionState.DRAINING if info.state == "draining" else SessionState.ACTIVE,
        protocol=info.protocol_version or None,
        client=_client_label(info.client_info),
        user=users.get(info.user_id),
        created_at=info.created_at,
        last_seen=info.last_activity,
        requests=info.request_count,
        in_flight=info.inflight,
    )
