"""Users and API keys in memory for FakeClient, refused where the backend refuses them."""

from __future__ import annotations

from mcp_console.schemas.errors import Conflict, Forbidden, Unauthorized, revalidated
from mcp_console.schemas.users import Principal, UserCreate, UserCreated, UserView
from tests.tui.sample import NOW


class FakeUsers:
    """Who may act: the admin the fake starts with, and the users an admin adds."""

    def __init__(self, admin: Principal) -> None:
        self.views = {
            admin.name: UserView(id=admin.user_id, name=admin.name, role=admin.role, created_at=NOW)
        }
        self._keys: dict[str, str] = {}

    def create(self, actor: Principal, new: UserCreate) -> UserCreated:
        if not actor.is_admin:
            raise Forbidden("only an admin may create users")
        new = revalidated(new)
        if new.name in self.views:
            raise Conflict(f"a user named {new.name!r} already exists", field="name")
        user = UserView(
            id=max(u.id for u in self.views.values()) + 1,
            name=new.name,
            role=new.role,
            created_at=NOW,
        )
        self.views[user.name] = user
        return UserCreated(user=user, api_key=self.key_for(user.name))

    def key_for(self, name: str) -> str:
        """A key of the user ``name`` (one per user is enough for a fake)."""
        key = f"mcpc_fake-{self.views[name].id}"
        self._keys[key] = name
        return key

    def listed(self, actor: Principal) -> list[UserView]:
        if not actor.is_admin:
            raise Forbidden("only an admin may list users")
        return sorted(self.views.values(), key=lambda u: u.name)

    def authenticate(self, key: str) -> Principal:
        if not key:
            raise Unauthorized("an API key is required")
        name = self._keys.get(key)
        if name is None:
            raise Unauthorized("the API key is not valid")
        user = self.views[name]
        return Principal(user_id=user.id, name=user.name, role=user.role)
