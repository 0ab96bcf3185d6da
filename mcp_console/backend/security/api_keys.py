"""KeyService: a user's API keys, created with an expiry or a scope, listed, and revoked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models import ApiKey, ApiKeyDeployment, ServiceDeployment, User
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.security.keys import hash_key, key_lookup_prefix, mint_key
from mcp_console.schemas.errors import Conflict, Forbidden, NotFound
from mcp_console.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyState,
    KeyView,
    Principal,
    parse_duration,
)

# The deployments a key may be limited to, by the names the actor gave (deploy's rule).
ResolveScope = Callable[[Principal, list[str]], Awaitable[dict[str, int]]]


async def add_key(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    expires_at: datetime | None = None,
    deployment_ids: list[int] | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key for ``user`` in ``session``; returns its row and its secret (shown once)."""
    secret = mint_key()
    row = ApiKey(
        user_id=user.id,
        prefix=key_lookup_prefix(secret),
        key_hash=hash_key(secret),
        label=name,
        expires_at=expires_at,
        scoped=deployment_ids is not None,
    )
    session.add(row)
    await session.flush()
    for deployment_id in sorted(set(deployment_ids or ())):
        session.add(ApiKeyDeployment(key_id=row.id, deployment_id=deployment_id))
    await session.flush()
    return row, secret


def key_state(row: ApiKey, now: datetime | None = None) -> KeyState:
    """Whether the key opens anything now."""
    if row.revoked_at is not None:
        return KeyState.REVOKED
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return KeyState.EXPIRED
    return KeyState.ACTIVE


class KeyService:
    """A user's own keys (an admin may manage anyone's).

    Args:
        sessions: the database.
        events: told of each revocation (``key.revoked``), so the gateway forgets the key.
        resolve_scope: the deployments a key may be limited to, from their names.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        events: EventBus,
        resolve_scope: ResolveScope,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._resolve_scope = resolve_scope

    async def create(self, actor: Principal, new: KeyCreate) -> KeyCreated:
        """Mint a key for the actor, maybe expiring, maybe limited to some deployments.

        Raises:
            Invalid: the expiry is no duration.
            NotFound: the actor may not see one of the deployments named.
        """
        expires_at = utcnow() + parse_duration(new.expires_in) if new.expires_in else None
        scope = await self._resolve_scope(actor, new.deployments) if new.deployments else None
        async with self._sessions.begin() as session:
            user = await session.get_one(User, actor.user_id)
            row, secret = await add_key(
                session,
                user,
                name=new.name,
                expires_at=expires_at,
                deployment_ids=list(scope.values()) if scope is not None else None,
            )
            view = (await self._views(session, actor, [row]))[0]
        self._events.publish(
            {
                "type": "key.created",
                "key_id": row.id,
                "key": view.name,
                "user_id": actor.user_id,
                "deployments": view.deployments,
                **acted_by(actor),
            }
        )
        return KeyCreated(key=view, api_key=secret)

    async def list_keys(self, actor: Principal, user: str | None = None) -> list[KeyView]:
        """The actor's keys (or, for an admin, ``user``'s), newest first, never a secret."""
        async with self._sessions() as session:
            owner_id = await self._owner(session, actor, user)
            rows = list(
                await session.scalars(
                    select(ApiKey).where(ApiKey.user_id == owner_id).order_by(ApiKey.id.desc())
                )
            )
            return await self._views(session, actor, rows)

    async def revoke(self, actor: Principal, ref: str, user: str | None = None) -> KeyView:
        """Revoke one of the actor's keys, named by id, prefix or name; it stops working at
        once, in the gateway too.

        Raises:
            NotFound: no such key (of that user).
            Conflict: the name fits several keys (use the id or prefix).
        """
        async with self._sessions.begin() as session:
            owner_id = await self._owner(session, actor, user)
            match = [ApiKey.prefix == ref, ApiKey.label == ref]
            if ref.isdigit():
                match.append(ApiKey.id == int(ref))
            rows = list(
                await session.scalars(select(ApiKey).where(ApiKey.user_id == owner_id, or_(*match)))
            )
            if not rows:
                raise NotFound(f"no key {ref!r}", field="key")
            if len(rows) > 1:
                ids = ", ".join(str(r.id) for r in rows)
                raise Conflict(f"{len(rows)} keys are called {ref!r} (ids {ids})", field="key")
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            view = (await self._views(session, actor, [row]))[0]
        self._events.publish(
            {
                "type": "key.revoked",
                "key_id": row.id,
                "key": view.name,
                "user_id": owner_id,
                **acted_by(actor),
            }
        )
        return view

    async def revoked_since(self, since: datetime) -> list[int]:
        """Keys revoked at or after ``since`` (the gateway forgets them)."""
        async with self._sessions() as session:
            return list(await session.scalars(select(ApiKey.id).where(ApiKey.revoked_at >= since)))

    @staticmethod
    async def _owner(session: AsyncSession, actor: Principal, user: str | None) -> int:
        if user is None or user == actor.name:
            return actor.user_id
        if not actor.is_admin:
            raise Forbidden("only an admin may manage another user's keys")
        user_id = await session.scalar(select(User.id).where(User.name == user))
        if user_id is None:
            raise NotFound(f"no user named {user!r}", field="user")
        return user_id

    @staticmethod
    async def _views(session: AsyncSession, actor: Principal, rows: list[ApiKey]) -> list[KeyView]:
        scopes: dict[int, list[str]] = {}
        if any(row.scoped for row in rows):
            reached = await session.execute(
                select(ApiKeyDeployment.key_id, User.name, ServiceDeployment.deployment_name)
                .join(ServiceDeployment, ServiceDeployment.id == ApiKeyDeployment.deployment_id)
                .join(User, User.id == ServiceDeployment.user_id)
                .where(ApiKeyDeployment.key_id.in_([row.id for row in rows]))
                .order_by(User.name, ServiceDeployment.deployment_name)
            )
            for key_id, owner, name in reached:
                label = name if owner == actor.name else f"{owner}/{name}"
                scopes.setdefault(key_id, []).append(label)
        now = utcnow()
        return [
            KeyView(
                id=row.id,
                name=row.label,
                prefix=row.prefix,
                state=key_state(row, now),
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                deployments=scopes.get(row.id, []) if row.scoped else None,
            )
            for row in rows
        ]
