"""Stored secrets in memory for FakeClient: each user's own, checked as the backend checks."""

from __future__ import annotations

from collections.abc import Mapping

from mcp_console.backend.security.stored_secrets import check_name
from mcp_console.schemas.errors import Invalid, NotFound
from mcp_console.schemas.secrets import MAX_SECRET_VALUE, StoredSecretView
from mcp_console.schemas.users import Principal
from tests.tui.sample import NOW


class FakeSecrets:
    """Values and views by user id, then by name."""

    def __init__(self) -> None:
        self._values: dict[int, dict[str, str]] = {}
        self._views: dict[int, dict[str, StoredSecretView]] = {}

    def put(self, me: Principal, name: str, value: str) -> StoredSecretView:
        check_name(name)
        if not value or len(value) > MAX_SECRET_VALUE:
            raise Invalid(
                f"a secret's value must be 1 to {MAX_SECRET_VALUE} characters", field="value"
            )
        view = StoredSecretView(name=name, owner=me.name, created_at=NOW, updated_at=NOW)
        self._values.setdefault(me.user_id, {})[name] = value
        self._views.setdefault(me.user_id, {})[name] = view
        return view

    def list(self, me: Principal) -> list[StoredSecretView]:
        views = self._views.get(me.user_id, {})
        return [views[name] for name in sorted(views)]

    def remove(self, me: Principal, name: str) -> None:
        if name not in self._values.get(me.user_id, {}):
            raise NotFound(f"you have no secret named {name!r}", field="name")
        del self._values[me.user_id][name]
        del self._views[me.user_id][name]

    def values(self, me: Principal, refs: Mapping[str, str]) -> dict[str, str]:
        mine = self._values.get(me.user_id, {})
        out = {}
        for key, name in refs.items():
            if name not in mine:
                raise NotFound(
                    f"you have no stored secret named {name!r}", field=f"secret_refs.{key}"
                )
            out[key] = mine[name]
        return out
