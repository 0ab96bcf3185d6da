"""Revocations reach the gateway's key cache whatever the database is doing."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from mcp_console.backend.bridge.access_watch import AccessWatch
from mcp_console.backend.events import EventBus
from mcp_console.backend.gateway.core import Gateway
from mcp_console.schemas.errors import Unauthorized
from mcp_console.schemas.users import Principal, Role

KEY = "mcp_test_key"


async def _authenticate(key: str) -> Principal:
    return Principal(user_id=1, name="ada", role=Role.USER, key_id=7)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_revocation_made_here_is_applied_while_the_database_look_hangs() -> None:
    looking = asyncio.Event()
    never = asyncio.Event()

    async def revoked_since(since: datetime) -> list[int]:
        looking.set()
        await never.wait()  # a database that does not answer
        return []

    events = EventBus()
    gateway = Gateway(_authenticate)
    assert (await gateway.auth.principal(KEY)).key_id == 7
    watch = AccessWatch(events, gateway, revoked_since, poll_seconds=0.01)
    watch.start()
    try:
        await asyncio.wait_for(looking.wait(), timeout=30)
        events.publish({"type": "key.revoked", "key_id": 7, "user_id": 1})
        await _settle()
        with pytest.raises(Unauthorized, match="not valid"):
            gateway.auth.cached(KEY)
    finally:
        await watch.aclose()


async def test_revocations_by_another_process_are_found_despite_a_stream_of_events() -> None:
    revoked: list[int] = []
    looked = asyncio.Event()

    async def revoked_since(since: datetime) -> list[int]:
        looked.set()
        return revoked

    events = EventBus()
    gateway = Gateway(_authenticate)
    await gateway.auth.principal(KEY)
    watch = AccessWatch(events, gateway, revoked_since, poll_seconds=0.05)
    watch.start()
    try:
        revoked.append(7)  # written to the database by another backend
        looked.clear()
        for _ in range(400):  # events more often than the look is due
            events.publish({"type": "deployment.changed"})
            await asyncio.sleep(0.005)
            if looked.is_set():
                break
        assert looked.is_set(), "the database was never asked while events kept coming"
        with pytest.raises(Unauthorized, match="not valid"):
            gateway.auth.cached(KEY)
    finally:
        await watch.aclose()
