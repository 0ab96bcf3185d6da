"""API key routes: list your keys, create one (shown once), revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.users import KeyCreate, KeyCreated, KeyView

router = APIRouter(tags=["keys"])

KeyOwner = Annotated[
    str | None, Query(description="Whose keys (default: yours; only admins name another user).")
]


@router.get("/keys")
async def list_keys(rt: RuntimeDep, actor: Actor, user: KeyOwner = None) -> list[KeyView]:
    """API keys, newest first, with state, expiry and scope; never a secret, only a prefix."""
    return await rt.keys.list_keys(actor, user)


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(rt: RuntimeDep, actor: Actor, new: KeyCreate) -> KeyCreated:
    """Mint an API key for the caller; the answer holds its secret, shown this once."""
    return await rt.keys.create(actor, new)


@router.post("/keys/{ref}/revoke")
async def revoke_key(
    rt: RuntimeDep,
    actor: Actor,
    ref: Annotated[str, Path(description="The key's id, prefix or name.")],
    user: KeyOwner = None,
) -> KeyView:
    """Revoke a key: refused at once by the API and the gateway, its sessions ended."""
    return await rt.keys.revoke(actor, ref, user)
