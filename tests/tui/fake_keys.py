"""API keys in memory for FakeClient: minted, listed without secrets, revoked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcp_console.schemas.errors import Conflict, Forbidden, NotFound, Unauthorized, revalidated
from mcp_console.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyState,
    KeyView,
    Principal,
    parse_duration,
)
from tests.tui.sample import NOW

# The fake's secrets look like the backend's: the scheme, then what the prefix shows.
_SCHEME = "mcpc_"


@dataclass
class _Key:
    owner: str
    secret: str
    view: KeyView


class FakeKeys:
    """Each user's keys; the fake's clock stands still at ``NOW``, so none expires by itself.

    Args:
        user_exists: whether a user of that name exists.
        resolve: the deployment a key may be limited to, by the name the actor gives
            (raises ``NotFound`` for one they may not see).
    """

    def __init__(self, user_exists: Callable[[str], bool], resolve: Callable[[str], str]) -> None:
        self._user_exists = user_exists
        self._resolve = resolve
        self._keys: list[_Key] = []

    def create(self, actor: Principal, new: KeyCreate) -> KeyCreated:
        new = revalidated(new)
        expires_at = NOW + parse_duration(new.expires_in) if new.expires_in else None
        scope = sorted({self._resolve(name) for name in new.deployments}) or None
        number = len(self._keys) + 1
        secret = f"{_SCHEME}{number:08d}-fake-secret"
        view = KeyView(
            id=number,
            name=new.name,
            prefix=secret[: len(_SCHEME) + 8],
            state=KeyState.ACTIVE,
            created_at=NOW,
            last_used_at=None,
            expires_at=expires_at,
            revoked_at=None,
            deployments=scope,
        )
        self._keys.append(_Key(actor.name, secret, view))
        return KeyCreated(key=view, api_key=secret)

    def listed(self, actor: Principal, user: str | None) -> list[KeyView]:
        owner = self._owner(actor, user)
        return [key.view for key in reversed(self._keys) if key.owner == owner]

    def revoke(self, actor: Principal, ref: str, user: str | None) -> KeyView:
        owner = self._owner(actor, user)
        found = [
            key
            for key in self._keys
            if key.owner == owner and ref in (key.view.prefix, key.view.name, str(key.view.id))
        ]
        if not found:
            raise NotFound(f"no key {ref!r}", field="key")
        if len(found) > 1:
            ids = ", ".join(str(key.view.id) for key in found)
            raise Conflict(f"{len(found)} keys are called {ref!r} (ids {ids})", field="key")
        key = found[0]
        if key.view.revoked_at is None:
            key.view = key.view.model_copy(update={"state": KeyState.REVOKED, "revoked_at": NOW})
        return key.view

    def owner_of(self, secret: str) -> tuple[str, KeyView] | None:
        """The user a live key of this fake's belongs to, and the key (``None``: not one of
        these keys).

        Raises:
            Unauthorized: the key was revoked.
        """
        for key in self._keys:
            if key.secret == secret:
                if key.view.state is not KeyState.ACTIVE:
                    raise Unauthorized("the API key is not valid")
                return key.owner, key.view
        return None

    def _owner(self, actor: Principal, user: str | None) -> str:
        if user is None or user == actor.name:
            return actor.name
        if not actor.is_admin:
            raise Forbidden("only an admin may manage another user's keys")
        if not self._user_exists(user):
            raise NotFound(f"no user named {user!r}", field="user")
        return user
