"""Notification targets and the outbox: encrypted, admin-only, retried in order, logged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from mcp_console.backend.monitor.notifications import Notifications
from mcp_console.backend.monitor.notify_signing import verify
from mcp_console.backend.runtime import Runtime
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.schemas.alerts import (
    AlertNotice,
    AlertState,
    DeliveryState,
    TargetCreate,
    TargetKind,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal, Role
from tests.backend.factories import make_user
from tests.monitor.receiver import Receiver, receiving

SECRET = "webhook-signing-secret-42"
TOKEN = "tok-9f8e7d6c5b4a"
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def notifications(runtime: Runtime, clock: Clock) -> Notifications:
    box = SecretBox.from_settings(runtime.settings)

    async def the_box() -> SecretBox:
        return box

    return Notifications(runtime.sessions, the_box, clock)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r


@pytest.fixture
def admin(runtime: Runtime) -> Principal:
    assert runtime.local_admin is not None
    return runtime.local_admin


def fired(n: int) -> AlertNotice:
    return AlertNotice(
        fingerprint=f"fp{n}",
        state=AlertState.FIRING,
        labels={"alertname": f"Alert{n}", "severity": "warning"},
        starts_at=START,
    )


async def test_targets_are_stored_encrypted_and_listed_masked(
    runtime: Runtime, notifications: Notifications, admin: Principal, receiver: Receiver
) -> None:
    url = f"{receiver.url}/hook?token={TOKEN}"
    view = await notifications.add_target(admin, TargetCreate(name="ops", url=url, secret=SECRET))
    assert view.kind is TargetKind.WEBHOOK
    assert view.signed
    assert TOKEN not in view.url
    [listed] = await notifications.list_targets(admin)
    assert listed.url == view.url
    await runtime.engine.dispose()  # everything written to the file
    database = make_url(runtime.settings.resolved_database_url).database
    if database is not None and Path(database).exists():  # SQLite: read the file itself
        raw = Path(database).read_bytes()
        assert TOKEN.encode() not in raw
        assert SECRET.encode() not in raw


async def test_only_admins_manage_targets_and_bad_ones_are_refused_by_name(
    runtime: Runtime, notifications: Notifications, admin: Principal, receiver: Receiver
) -> None:
    alice = await make_user(runtime, "alice", Role.USER)
    with pytest.raises(Forbidden, match="only admins"):
        await notifications.add_target(alice, TargetCreate(name="x", url=receiver.url))
    with pytest.raises(Forbidden):
        await notifications.list_targets(alice)
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    with pytest.raises(Conflict, match="'ops' exists"):
        await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    with pytest.raises(Invalid, match="not a notification URL"):
        await notifications.add_target(admin, TargetCreate(name="bad", url="gopher://x"))
    with pytest.raises(Invalid, match="only webhook targets are signed"):
        await notifications.add_target(
            admin, TargetCreate(name="chat", url="json://127.0.0.1:9/x", secret=SECRET)
        )
    with pytest.raises(NotFound, match="'nope'"):
        await notifications.remove_target(admin, "nope")
    assert [t.name for t in await notifications.list_targets(admin)] == ["ops"]


async def test_a_receiver_down_for_a_while_gets_every_notification_in_order_once_back(
    notifications: Notifications, admin: Principal, receiver: Receiver, clock: Clock
) -> None:
    await notifications.add_target(
        admin, TargetCreate(name="ops", url=f"{receiver.url}/hook", secret=SECRET)
    )
    receiver.status = 503
    for n in (1, 2, 3):
        assert await notifications.notify([fired(n)]) == 1
    assert await notifications.deliver_due() == 0
    # Only the oldest was tried: the others wait behind it rather than overtake it.
    assert receiver.refused == 1
    clock.advance(1)  # inside the back-off: nothing is tried
    assert await notifications.deliver_due() == 0
    assert receiver.refused == 1
    clock.advance(2)
    assert await notifications.deliver_due() == 0
    assert receiver.refused == 2

    receiver.status = 200
    clock.advance(600)
    assert await notifications.deliver_due() == 3
    names = [json.loads(r.body)["alerts"][0]["labels"]["alertname"] for r in receiver.requests]
    assert names == ["Alert1", "Alert2", "Alert3"]
    assert all(verify(SECRET, r.headers, r.body, now=r_time()) for r in receiver.requests)

    log = await notifications.deliveries(admin, "ops")
    assert [(d.alert, d.state, d.attempts) for d in log] == [
        ("Alert3", DeliveryState.DELIVERED, 1),
        ("Alert2", DeliveryState.DELIVERED, 1),
        ("Alert1", DeliveryState.DELIVERED, 3),
    ]
    assert log[-1].last_error is None
    assert await notifications.deliver_due() == 0  # nothing is sent twice


def r_time() -> float:
    """Signatures are stamped with the real time (the clock above only schedules)."""
    return datetime.now(UTC).timestamp()


async def test_failed_attempts_are_logged_with_the_reason(
    notifications: Notifications, admin: Principal, receiver: Receiver, clock: Clock
) -> None:
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    receiver.status = 500
    await notifications.notify([fired(1)])
    await notifications.deliver_due()
    [entry] = await notifications.deliveries(admin)
    assert entry.state is DeliveryState.WAITING
    assert entry.attempts == 1
    assert entry.last_error is not None
    assert "answered 500" in entry.last_error
    assert entry.next_attempt_at == clock.now + timedelta(seconds=2)


async def test_a_notification_never_delivered_expires_after_a_week(
    notifications: Notifications, admin: Principal, receiver: Receiver, clock: Clock
) -> None:
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    receiver.status = 503
    await notifications.notify([fired(1)])
    await notifications.deliver_due()
    clock.advance(8 * 86400)
    receiver.status = 200
    assert await notifications.deliver_due() == 0
    [entry] = await notifications.deliveries(admin)
    assert entry.state is DeliveryState.EXPIRED
    assert receiver.requests == []


async def test_send_test_reaches_the_target_and_says_how_it_went(
    notifications: Notifications, admin: Principal, receiver: Receiver
) -> None:
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    await notifications.add_target(admin, TargetCreate(name="other", url=f"{receiver.url}/o"))
    done = await notifications.test_target(admin, "ops")
    assert done.state is DeliveryState.DELIVERED
    [got] = receiver.requests
    assert got.path == "/"  # only the target tested
    assert json.loads(got.body)["alerts"][0]["labels"]["alertname"] == "TestNotification"

    receiver.status = 503
    failed = await notifications.test_target(admin, "ops")
    assert failed.state is DeliveryState.WAITING
    assert failed.last_error is not None


async def test_removing_a_target_removes_its_deliveries(
    notifications: Notifications, admin: Principal, receiver: Receiver
) -> None:
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    receiver.status = 503
    await notifications.notify([fired(1)])
    await notifications.remove_target(admin, "ops")
    assert await notifications.deliveries(admin) == []
    assert await notifications.deliver_due() == 0


async def test_firing_and_resolved_notices_go_in_separate_messages(
    notifications: Notifications, admin: Principal, receiver: Receiver
) -> None:
    await notifications.add_target(admin, TargetCreate(name="ops", url=receiver.url))
    resolved = fired(2).model_copy(
        update={"state": AlertState.RESOLVED, "ends_at": START + timedelta(minutes=1)}
    )
    assert await notifications.notify([fired(1), resolved, fired(3)]) == 2
    assert await notifications.deliver_due() == 2
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [(b["status"], [a["labels"]["alertname"] for a in b["alerts"]]) for b in bodies] == [
        ("firing", ["Alert1", "Alert3"]),
        ("resolved", ["Alert2"]),
    ]
