"""The inspector's keys: accepted for one user while valid, refused once revoked or expired."""

from __future__ import annotations

import pytest

from mcp_console.backend.security.internal_keys import INTERNAL_PREFIX, InternalKeys
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal, Role

ALICE = Principal(user_id=7, name="alice", role=Role.USER)
BOB = Principal(user_id=8, name="bob", role=Role.USER)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def api_keys(key: str) -> Principal:
    """Stands for the user service: one API key is known."""
    if key == "mcpc_bobs-key":
        return BOB
    raise Unauthorized("the API key is not valid")


async def test_an_issued_key_acts_as_its_user_until_revoked() -> None:
    keys = InternalKeys(api_keys)
    async with keys.issued(ALICE) as key:
        assert key.startswith(INTERNAL_PREFIX)
        assert await keys.authenticate(key) == ALICE
        # Users' API keys still work through the same door.
        assert await keys.authenticate("mcpc_bobs-key") == BOB
    with pytest.raises(Unauthorized):
        await keys.authenticate(key)
    assert len(keys) == 0


async def test_an_expired_or_made_up_key_is_refused() -> None:
    clock = Clock()
    keys = InternalKeys(api_keys, ttl=60, clock=clock)
    key = keys.issue(ALICE)
    clock.now += 59
    assert await keys.authenticate(key) == ALICE
    clock.now += 2
    with pytest.raises(Unauthorized):
        await keys.authenticate(key)
    with pytest.raises(Unauthorized):
        await keys.authenticate(INTERNAL_PREFIX + "guessed")
    keys.issue(BOB)  # issuing sweeps the expired ones
    assert len(keys) == 1
