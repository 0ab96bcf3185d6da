"""Which backend events one user may receive: only about what they may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.catalog.service import can_see
from mcp_console.backend.db.models import McpService, ServiceDeployment
from mcp_console.backend.deploy.access import grant_access
from mcp_console.backend.deploy.deployment_record import load_states
from mcp_console.schemas.users import Principal

# Events about a user's stored secrets (their names only).
_OWNER_ONLY = "secret."
# Events for everyone connected.
_EVERYONE = frozenset({"daemon.stopping"})
# Events after which who sees a deployment may have changed.
_RESHARED = frozenset({"deployment.shared", "deployment.unshared", "deployment.created"})
# Events after which who sees a service may have changed.
_REPUBLISHED = frozenset({"service.published", "service.deprecated", "service.registered"})


class EventAudience:
    """Decides, event by event, whether one user's stream carries it.

    An admin (with an unlimited key) receives everything. Anyone else receives events about
    deployments they may see (their own and those shared with them or their teams, within
    their key's scope), about services they may see (published ones, and their own drafts),
    and those addressed to them (their key revoked, their teams changed); nothing else, so a
    stream never names what is not theirs. Answers are remembered per deployment and service
    until an event says they may have changed.

    Args:
        sessions: the database.
        actor: whose stream this is.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], actor: Principal) -> None:
        self._sessions = sessions
        self._actor = actor
        self._deployments: dict[int, bool] = {}
        self._services: dict[str, bool] = {}

    async def allows(self, event: dict[str, Any]) -> bool:
        """Whether the event may be sent to this user."""
        actor = self._actor
        kind = str(event.get("type", ""))
        if kind.startswith(_OWNER_ONLY):
            # A user's stored secrets are theirs alone, even to an admin.
            return event.get("user_id") == actor.user_id and actor.scope is None
        if actor.is_admin and actor.scope is None:
            return True
        if kind in _EVERYONE:
            return True
        if kind == "key.revoked":
            return event.get("user_id") == actor.user_id
        if kind == "team.changed":
            self._deployments.clear()  # shares to teams reach other people now
            return actor.user_id in event.get("user_ids", ())
        if "deployment_id" in event:
            return await self._deployment(int(event["deployment_id"]), kind)
        if "service" in event:
            return await self._service(str(event["service"]), kind)
        return False

    async def _deployment(self, deployment_id: int, kind: str) -> bool:
        if kind in _RESHARED:
            self._deployments.pop(deployment_id, None)
        known = self._deployments.get(deployment_id)
        if known is None:
            async with self._sessions() as session:
                states = await load_states(
                    session, ServiceDeployment.id == deployment_id, with_secrets=False
                )
                known = bool(await grant_access(session, self._actor, states))
            # A deployment already gone keeps the answer it had (its removal is news to those
            # who saw it), and is asked about again if it was never known.
            if states:
                self._deployments[deployment_id] = known
        return known

    async def _service(self, name: str, kind: str) -> bool:
        if kind in _REPUBLISHED:
            self._services.pop(name, None)
        known = self._services.get(name)
        if known is None:
            async with self._sessions() as session:
                service = await session.scalar(select(McpService).where(McpService.name == name))
            known = service is not None and can_see(self._actor, service)
            self._services[name] = known
        return known
