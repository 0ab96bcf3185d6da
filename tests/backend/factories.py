"""Builders of users and services for backend tests."""

from __future__ import annotations

from mcp_console.backend.runtime import Runtime
from mcp_console.schemas.catalog import ServiceCreate, VersionCreate
from mcp_console.schemas.users import Principal, Role, UserCreate

IMAGE = "mcp-console/example:1.0.0"


async def make_user(runtime: Runtime, name: str, role: Role) -> Principal:
    created = await runtime.users.create_user(None, UserCreate(name=name, role=role))
    return await runtime.users.authenticate(created.api_key)


async def published(runtime: Runtime, author: Principal, name: str, *versions: str) -> None:
    await runtime.catalog.register(
        author, ServiceCreate(name=name, description=f"{name} does things", tags=["db", "Demo"])
    )
    for version in versions or ("1.0.0",):
        await runtime.catalog.add_version(
            author, name, VersionCreate(version=version, docker_image=IMAGE)
        )
    await runtime.catalog.publish(author, name)
