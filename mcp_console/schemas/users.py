"""User and API-key DTOs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    """What a user may do: admins everything, authors publish, users consume."""

    ADMIN = "admin"
    AUTHOR = "author"
    USER = "user"


class Principal(BaseModel):
    """Who is acting, as the services check it."""

    user_id: int
    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """Whether this principal may act on anything."""
        return self.role is Role.ADMIN


class UserCreate(BaseModel):
    """A new user."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
    role: Role = Role.USER


class UserView(BaseModel):
    """A user as listed."""

    id: int
    name: str
    role: Role
    created_at: datetime


class UserCreated(BaseModel):
    """A new user with the API key shown this once."""

    user: UserView
    api_key: str
