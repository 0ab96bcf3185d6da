"""StoredSecrets: each user's named secrets, encrypted at rest, that deployments reference."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.base import utcnow
from mcp_console.backend.db.models_secrets import StoredSecret
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.schemas.errors import Conflict, Invalid, NotFound
from mcp_console.schemas.secrets import (
    MAX_SECRET_NAME,
    MAX_SECRET_VALUE,
    SECRET_NAME_PATTERN,
    StoredSecretView,
)
from mcp_console.schemas.users import Principal

_NAME = re.compile(SECRET_NAME_PATTERN)


class StoredSecrets:
    """A user's own secrets by name: set, listed (names only), removed, and decrypted only
    into a deployment of the same user.

    Everyone, admins included, reaches their own secrets only: a secret is never shown,
    and another user's is as absent as one that does not exist.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: Callable[[], Awaitable[SecretBox]],
        events: EventBus,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._events = events

    async def put(self, actor: Principal, name: str, value: str) -> StoredSecretView:
        """Store ``value`` (encrypted) as the actor's secret ``name``, replacing its value.

        Raises:
            Invalid: the name or the value is not acceptable (``field`` says which).
        """
        check_name(name)
        if not value or len(value) > MAX_SECRET_VALUE:
            raise Invalid(
                f"a secret's value must be 1 to {MAX_SECRET_VALUE} characters", field="value"
            )
        ciphertext = (await self._box()).encrypt(value)
        now = utcnow()
        try:
            async with self._sessions.begin() as session:
                row = await _row(session, actor, name)
                if row is None:
                    row = StoredSecret(
                        user_id=actor.user_id, name=name, ciphertext=ciphertext, created_at=now
                    )
                    session.add(row)
                row.ciphertext, row.updated_at = ciphertext, now
        except IntegrityError:
            raise Conflict(f"the secret {name} was set at the same time", field="name") from None
        self._publish("secret.set", actor, name)
        return _view(row, actor)

    async def list(self, actor: Principal) -> list[StoredSecretView]:
        """The actor's secrets by name (never their values)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(StoredSecret)
                .where(StoredSecret.user_id == actor.user_id)
                .order_by(StoredSecret.name)
            )
            return [_view(row, actor) for row in rows]

    async def remove(self, actor: Principal, name: str) -> None:
        """Forget the actor's secret ``name`` (deployments keep the value they were given).

        Raises:
            NotFound: the actor has no secret of that name.
        """
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(StoredSecret).where(
                    StoredSecret.user_id == actor.user_id, StoredSecret.name == name
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound(f"you have no secret named {name!r}", field="name")
        self._publish("secret.removed", actor, name)

    def _publish(self, kind: str, actor: Principal, name: str) -> None:
        # The name only, and for its owner's stream alone (see ``event_audience``).
        self._events.publish(
            {"type": kind, "secret": name, "user_id": actor.user_id, **acted_by(actor)}
        )

    async def values(
        self, session: AsyncSession, actor: Principal, refs: Mapping[str, str]
    ) -> dict[str, str]:
        """The plain values of the actor's secrets that ``refs`` names (key → secret name),
        by key: for a deployment's environment only.

        Raises:
            NotFound: the actor has no secret of one of the names (``field`` is
                ``secret_refs.<key>``).
        """
        if not refs:
            return {}
        rows = await session.execute(
            select(StoredSecret.name, StoredSecret.ciphertext).where(
                StoredSecret.user_id == actor.user_id, StoredSecret.name.in_(set(refs.values()))
            )
        )
        found: dict[str, str] = {name: ciphertext for name, ciphertext in rows}  # noqa: C416
        box = await self._box()
        out: dict[str, str] = {}
        for key, name in refs.items():
            if name not in found:
                raise NotFound(
                    f"you have no stored secret named {name!r} (set it with: "
                    f"mcp-console secret set {name})",
                    field=f"secret_refs.{key}",
                )
            out[key] = box.decrypt(found[name])
        return out


def check_name(name: str) -> None:
    """Refuse a name a stored secret cannot have.

    Raises:
        Invalid: the name is empty, too long or holds other than letters, digits, ``.``,
            ``_`` and ``-``.
    """
    if not name or len(name) > MAX_SECRET_NAME or not _NAME.match(name):
        raise Invalid(
            f"{name!r} is not a secret name: letters, digits, '.', '_' and '-' (up to "
            f"{MAX_SECRET_NAME}), starting with a letter or digit",
            field="name",
        )


async def _row(session: AsyncSession, actor: Principal, name: str) -> StoredSecret | None:
    return await session.scalar(
        select(StoredSecret).where(StoredSecret.user_id == actor.user_id, StoredSecret.name == name)
    )


def _view(row: StoredSecret, actor: Principal) -> StoredSecretView:
    return StoredSecretView(
        name=row.name, owner=actor.name, created_at=row.created_at, updated_at=row.updated_at
    )
