"""Stored secret routes: list your secrets (names only), set one, remove one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.secrets import StoredSecretPut, StoredSecretView

router = APIRouter(tags=["secrets"])

SecretName = Annotated[str, Path(description="The secret's name (yours: names are per user).")]


@router.get("/secrets")
async def list_secrets(rt: RuntimeDep, actor: Actor) -> list[StoredSecretView]:
    """Your stored secrets: names, owner and dates, never a value."""
    return await rt.stored_secrets.list(actor)


@router.put("/secrets/{name}")
async def put_secret(
    rt: RuntimeDep, actor: Actor, name: SecretName, body: StoredSecretPut
) -> StoredSecretView:
    """Store a secret's value (encrypted), creating it or replacing its value."""
    return await rt.stored_secrets.put(actor, name, body.value)


@router.delete("/secrets/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_secret(rt: RuntimeDep, actor: Actor, name: SecretName) -> None:
    """Remove a stored secret (deployments keep the value they were given)."""
    await rt.stored_secrets.remove(actor, name)
