"""User routes: who am I, list and create users."""

from __future__ import annotations

from fastapi import APIRouter, status

from mcp_console.backend.api.deps import Actor, RuntimeDep, ScopedActor
from mcp_console.schemas.users import Principal, UserCreate, UserCreated, UserView

router = APIRouter(tags=["users"])


@router.get("/me")
async def whoami(actor: ScopedActor) -> Principal:
    """The user the bearer token belongs to."""
    return actor


@router.get("/users")
async def list_users(rt: RuntimeDep, actor: Actor) -> list[UserView]:
    """Every user (admins only)."""
    return await rt.users.list_users(actor)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(rt: RuntimeDep, actor: Actor, new: UserCreate) -> UserCreated:
    """Create a user; the answer holds its API key, shown this once."""
    return await rt.users.create_user(actor, new)
