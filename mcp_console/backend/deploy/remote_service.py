"""The catalog entry that deployments of a URL given by hand belong to, made on first use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import McpService, ServiceVersion, User
from mcp_console.backend.deploy.remote import STREAMABLE_HTTP
from mcp_console.schemas.catalog import ServiceStatus
from mcp_console.schemas.remote import REMOTE_SERVICE
from mcp_console.schemas.users import Principal

REMOTE_SERVICE_VERSION = "1.0.0"
_DESCRIPTION = (
    "An MCP server running elsewhere, at the URL given when it is deployed: the gateway "
    "fronts it with your keys, sharing, balancing over several URLs, health checks and "
    "metering; the headers it needs (Authorization: Bearer …) are stored encrypted."
)


async def ensure_remote_service(
    sessions: async_sessionmaker[AsyncSession], actor: Principal
) -> None:
    """Make the ``REMOTE_SERVICE`` entry (published, one version) unless it exists.

    Its author is the console's first admin (the actor where there is none yet), so no
    user who deploys a URL comes to own an entry everyone's URL deployments share. It is
    not put in the search index: it is found by its name, not browsed.
    """
    async with sessions() as session:
        if await session.scalar(select(McpService.id).where(McpService.name == REMOTE_SERVICE)):
            return
        admin = await session.scalar(
            select(User.id).where(User.role == "admin").order_by(User.id).limit(1)
        )
    now = utcnow()
    try:
        async with sessions.begin() as session:
            service = McpService(
                name=REMOTE_SERVICE,
                display_name="Remote MCP server",
                description=_DESCRIPTION,
                category="remote",
                author_id=admin if admin is not None else actor.user_id,
                status=ServiceStatus.PUBLISHED.value,
                published_at=now,
                tags=[],
            )
            session.add(service)
            await session.flush()
            session.add(
                ServiceVersion(
                    service_id=service.id,
                    version=REMOTE_SERVICE_VERSION,
                    transport=STREAMABLE_HTTP,
                    is_latest=True,
                    published_at=now,
                )
            )
    except IntegrityError:
        pass  # made meanwhile by another deployment
