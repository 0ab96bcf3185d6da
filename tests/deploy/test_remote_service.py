"""Remote deployments as recorded, on both databases: the catalog entry of URLs given by
hand, made once, and the upstream kept as encrypted rows only."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from mcp_console.backend.db.models import DeploymentSecret, McpService
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import MASK
from mcp_console.schemas.deploy import DeploymentCreate
from mcp_console.schemas.remote import REMOTE_SERVICE
from mcp_console.schemas.users import Role
from tests.backend.factories import make_user

TOKEN = "tok-remote-8e21b0c4"


def by_hand(name: str, url: str) -> DeploymentCreate:
    return DeploymentCreate(
        service=REMOTE_SERVICE,
        name=name,
        urls=[url],
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


async def test_users_deploying_urls_at_once_share_one_catalog_entry_owned_by_no_user(
    runtime: Runtime,
) -> None:
    admin = runtime.local_admin
    assert admin is not None
    alice = await make_user(runtime, "alice", Role.USER)
    bob = await make_user(runtime, "bob", Role.USER)

    first, second = await asyncio.gather(
        runtime.deployments.create(alice, by_hand("search", "https://a.example.com/mcp")),
        runtime.deployments.create(bob, by_hand("search", "https://b.example.com/mcp")),
    )
    entry = await runtime.catalog.get_service(alice, REMOTE_SERVICE)
    async with runtime.sessions() as session:
        entries = await session.scalar(
            select(func.count()).select_from(McpService).where(McpService.name == REMOTE_SERVICE)
        )
        rows = (
            await session.execute(select(DeploymentSecret.name, DeploymentSecret.ciphertext))
        ).all()

    assert (first.service, second.service) == (REMOTE_SERVICE, REMOTE_SERVICE)
    assert (first.driver, first.replicas, first.status.value) == ("remote", 1, "DEPLOYING")
    assert entries == 1
    assert entry.author == admin.name
    assert first.config == {"header:Authorization": MASK, "url:1": MASK}
    assert sorted(name for name, _ in rows) == ["header:Authorization"] * 2 + ["url:1"] * 2
    assert not [ciphertext for _, ciphertext in rows if TOKEN in ciphertext]
    assert TOKEN not in first.model_dump_json() + second.model_dump_json()
