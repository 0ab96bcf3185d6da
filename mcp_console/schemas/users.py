"""User, team and API-key DTOs, and who may see what they name."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from mcp_console.durations import EXAMPLES, read_duration
from mcp_console.schemas.base import Dto, RequestBody
from mcp_console.schemas.errors import Invalid

# Names of users and teams: they appear in endpoint paths (``/mcp/OWNER/NAME``).
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$"


class Role(StrEnum):
    """What a user may do: admins everything, authors publish, users consume."""

    ADMIN = "admin"
    AUTHOR = "author"
    USER = "user"


class Principal(Dto):
    """Who is acting, as the services check it.

    Attributes:
        key_id: the API key presented, when one was (``None`` for the console's own paths).
        key_expires_at: when that key stops working, if it expires.
        scope: the deployment ids a scoped key is limited to (``None``: not limited).
        team_ids: the teams the user is in (shares to a team reach its members).
    """

    user_id: int
    name: str
    role: Role
    key_id: int | None = None
    key_expires_at: datetime | None = None
    scope: frozenset[int] | None = None
    team_ids: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Whether this principal may act on anything (a scoped key never may)."""
        return self.role is Role.ADMIN and self.scope is None

    def in_scope(self, deployment_id: int) -> bool:
        """Whether the key allows reaching this deployment at all."""
        return self.scope is None or deployment_id in self.scope


class UserCreate(RequestBody):
    """A new user."""

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    role: Role = Role.USER


class UserView(Dto):
    """A user as listed."""

    id: int
    name: str
    role: Role
    created_at: datetime


class UserCreated(Dto):
    """A new user with the API key shown this once."""

    user: UserView
    api_key: str


def parse_duration(text: str, *, field: str = "expires") -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s`` or ``2w`` as a duration.

    Raises:
        Invalid: the text is no such duration, or is zero.
    """
    duration = read_duration(text)
    if duration is None:
        raise Invalid(
            f"{field} must be a positive duration such as {EXAMPLES}, got {text!r}",
            field=field,
        )
    return duration


class KeyState(StrEnum):
    """Whether a key still opens anything."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class KeyCreate(RequestBody):
    """A new API key for yourself.

    Attributes:
        name: what it is for (unique among your keys).
        expires_in: how long it works (``None``: until revoked), as ``parse_duration`` reads.
        deployments: limit it to these deployments (as you name them: ``NAME`` or
            ``OWNER/NAME``); empty: not limited.
    """

    name: str = Field(min_length=1, max_length=100)
    expires_in: str | None = None
    deployments: list[str] = Field(default_factory=list)


class KeyView(Dto):
    """An API key as listed: never its secret, only the prefix that identifies it."""

    id: int
    name: str
    prefix: str
    state: KeyState
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    deployments: list[str] | None


class KeyCreated(Dto):
    """A new key with its secret, shown this once."""

    key: KeyView
    api_key: str


class TeamRole(StrEnum):
    """A member's say in a team: maintainers add and remove members."""

    MEMBER = "member"
    MAINTAINER = "maintainer"


class TeamCreate(RequestBody):
    """A new team; its creator becomes its first maintainer."""

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=2000)


class TeamMember(Dto):
    """A user in a team."""

    user: str
    role: TeamRole


class TeamView(Dto):
    """A team with its members."""

    id: int
    name: str
    description: str
    created_at: datetime
    members: list[TeamMember]
