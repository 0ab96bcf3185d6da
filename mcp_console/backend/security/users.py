"""UserService: users, roles, API keys and authentication."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ApiKey, User
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.security.api_keys import add_key
from mcp_console.backend.security.keys import key_lookup_prefix, key_matches
from mcp_console.backend.security.principals import principal_for
from mcp_console.schemas.errors import Conflict, Forbidden, NotFound, Unauthorized
from mcp_console.schemas.users import Principal, Role, UserCreate, UserCreated, UserView


def user_view(user: User) -> UserView:
    """The DTO of a user row."""
    return UserView(id=user.id, name=user.name, role=Role(user.role), created_at=user.created_at)


def principal_of(user: User) -> Principal:
    """The acting principal of a user row."""
    return Principal(user_id=user.id, name=user.name, role=Role(user.role))


class UserService:
    """Creates users and keys, and turns a presented key into a principal."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], events: EventBus | None = None
    ) -> None:
        self._sessions = sessions
        # Where each user and key made is told (nobody hears it without a bus).
        self._events = events if events is not None else EventBus()

    async def create_user(self, actor: Principal | None, new: UserCreate) -> UserCreated:
        """Create a user and its first API key.

        Args:
            actor: who asks; must be an admin (``None`` only for the bootstrap paths).
            new: the user's name and role.

        Returns:
            The user and the API key, which is never shown again.

        Raises:
            Forbidden: the actor is not an admin.
            Conflict: the name is taken.
        """
        if actor is not None and not actor.is_admin:
            raise Forbidden("only an admin may create users")
        async with self._sessions.begin() as session:
            user = User(name=new.name, role=new.role.value)
            session.add(user)
            try:
                await session.flush()
            except IntegrityError:
                raise Conflict(f"a user named {new.name!r} already exists", field="name") from None
            key = (await add_key(session, user, name="initial"))[1]
            created = UserCreated(user=user_view(user), api_key=key)
        self._created(actor, new.name, new.role)
        return created

    async def create_key(self, actor: Principal, user_name: str, label: str = "") -> str:
        """Mint another unlimited key for ``user_name`` (yourself, or anyone if admin)."""
        async with self._sessions.begin() as session:
            user = await self._user_by_name(session, user_name)
            if user.id != actor.user_id and not actor.is_admin:
                raise Forbidden("you may create keys only for yourself")
            row, key = await add_key(session, user, name=label)
        self._events.publish(
            {
                "type": "key.created",
                "key_id": row.id,
                "key": label,
                "user_id": user.id,
                **acted_by(actor),
            }
        )
        return key

    async def ensure_local_admin(self, name: str) -> tuple[Principal, str | None]:
        """The local admin, created on first run; returns its key only when just created."""
        async with self._sessions.begin() as session:
            existing = await session.scalar(select(User).where(User.name == name))
            if existing is not None:
                return principal_of(existing), None
            user = User(name=name, role=Role.ADMIN.value)
            session.add(user)
            await session.flush()
            key = (await add_key(session, user, name="local admin"))[1]
            admin = principal_of(user)
        self._created(None, name, Role.ADMIN)
        return admin, key

    def _created(self, actor: Principal | None, name: str, role: Role) -> None:
        # Without an actor the console made the user (its first run, a bootstrap path).
        self._events.publish(
            {
                "type": "user.created",
                "user": name,
                "role": role.value,
                "system": "console",
                **acted_by(actor),
            }
        )

    async def authenticate(self, key: str) -> Principal:
        """The principal owning ``key``: its teams, and the key's expiry and scope.

        Raises:
            Unauthorized: no live key matches (unknown, revoked or expired).
        """
        if not key:
            raise Unauthorized("an API key is required")
        async with self._sessions.begin() as session:
            now = utcnow()
            rows = await session.scalars(
                select(ApiKey).where(
                    ApiKey.prefix == key_lookup_prefix(key), ApiKey.revoked_at.is_(None)
                )
            )
            for row in rows:
                if key_matches(key, row.key_hash):
                    if row.expires_at is not None and row.expires_at <= now:
                        raise Unauthorized("the API key has expired")
                    row.last_used_at = now
                    return await principal_for(session, row.user, row)
        raise Unauthorized("the API key is not valid")

    async def get_principal(self, name: str) -> Principal:
        """The principal of the user called ``name``."""
        async with self._sessions() as session:
            return await principal_for(session, await self._user_by_name(session, name))

    async def list_users(self, actor: Principal) -> list[UserView]:
        """Every user (admins only)."""
        if not actor.is_admin:
            raise Forbidden("only an admin may list users")
        async with self._sessions() as session:
            return [user_view(u) for u in await session.scalars(select(User).order_by(User.name))]

    @staticmethod
    async def _user_by_name(session: AsyncSession, name: str) -> User:
        user = await session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"no user named {name!r}")
        return user
