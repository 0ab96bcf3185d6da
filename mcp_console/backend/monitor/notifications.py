"""Notifications: targets (admin-managed, encrypted) and an outbox delivered with retries."""

# A notification is written to the outbox first, one row per target, and delivered by a
# pass the scheduler runs; a target that fails is retried with exponential back-off, and
# its later notifications wait behind the first so a receiver gets them in order once it is
# back. Nothing is sent while a database transaction is open. A notification still not
# delivered after EXPIRE_AFTER is marked expired (the delivery log keeps it).

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import AlertDelivery, AlertTarget
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.monitor.notify_senders import DeliveryFailed, Target, send
from mcp_console.backend.monitor.notify_targets import mask_url, target_kind
from mcp_console.backend.security.secrets import SecretBox
from mcp_console.schemas.alerts import (
    AlertNotice,
    AlertState,
    DeliveryState,
    DeliveryView,
    TargetCreate,
    TargetKind,
    TargetView,
)
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal

logger = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 300.0
EXPIRE_AFTER = timedelta(days=7)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (2 s, 4 s, ... 5 min)."""
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


class Notifications:
    """Notification targets and the delivery of notices to them.

    Args:
        sessions: the database.
        box: the secret box (target URLs and signing secrets are stored encrypted).
        clock: the current time (tests pass their own).
        events: where each change of a target is told (nobody hears it without a bus).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: Callable[[], Awaitable[SecretBox]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        events: EventBus | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._clock = clock
        self._events = events if events is not None else EventBus()
        self._pass = asyncio.Lock()

    # --- targets ------------------------------------------------------------------------

    async def add_target(self, actor: Principal, new: TargetCreate) -> TargetView:
        """Add a target (admins only).

        Raises:
            Forbidden: the caller is no admin.
            Invalid: the URL is no target, or a secret is given for a kind that is not signed.
            Conflict: a target of that name exists.
        """
        _admin(actor, "add notification targets")
        kind = target_kind(new.url)
        if new.secret is not None and kind is not TargetKind.WEBHOOK:
            raise Invalid("only webhook targets are signed: drop --secret", field="secret")
        box = await self._box()
        row = AlertTarget(
            name=new.name,
            kind=kind.value,
            shown_url=mask_url(new.url),
            url_ciphertext=box.encrypt(new.url.strip()),
            secret_ciphertext=box.encrypt(new.secret) if new.secret else None,
            created_by=actor.user_id,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"a notification target named {new.name!r} exists") from None
        # Its kind only: a target's URL and secret are secrets.
        self._events.publish(
            {
                "type": "alert.target.added",
                "target": new.name,
                "kind": kind.value,
                **acted_by(actor),
            }
        )
        return _view(row)

    async def list_targets(self, actor: Principal) -> list[TargetView]:
        """Every target, by name (admins only)."""
        _admin(actor, "list notification targets")
        async with self._sessions() as session:
            rows = await session.scalars(select(AlertTarget).order_by(AlertTarget.name))
            return [_view(row) for row in rows]

    async def remove_target(self, actor: Principal, name: str) -> None:
        """Remove a target and its delivery log (admins only).

        Raises:
            NotFound: no target has that name.
        """
        _admin(actor, "remove notification targets")
        async with self._sessions.begin() as session:
            row = await _target(session, name)
            await session.delete(row)
        self._events.publish({"type": "alert.target.removed", "target": name, **acted_by(actor)})

    async def test_target(self, actor: Principal, name: str) -> DeliveryView:
        """Send a test notice to one target now; the delivery as it went (retried if it failed)."""
        _admin(actor, "test notification targets")
        now = self._clock()
        notice = AlertNotice(
            fingerprint="mcp-console-test",
            state=AlertState.FIRING,
            labels={"alertname": "TestNotification", "severity": "info"},
            annotations={"summary": f"A test notification to {name}, sent by {actor.name}"},
            starts_at=now,
        )
        async with self._sessions.begin() as session:
            target = await _target(session, name)
            delivery = _delivery(target.id, [notice], now)
            session.add(delivery)
        await self.deliver_due(only=[delivery.id])
        return await self._delivery_view(delivery.id)

    # --- the outbox ---------------------------------------------------------------------

    async def notify(self, notices: Sequence[AlertNotice], targets: Sequence[str] = ()) -> int:
        """Queue ``notices`` for the named targets (every target when none is named).

        Returns:
            How many deliveries were queued (firing and resolved notices go apart).
        """
        if not notices:
            return 0
        now = self._clock()
        # One delivery per state: a message says "firing" or "resolved", never both.
        groups = [
            [n for n in notices if n.state is state]
            for state in (AlertState.FIRING, AlertState.RESOLVED)
        ]
        async with self._sessions.begin() as session:
            query = select(AlertTarget.id)
            if targets:
                query = query.where(AlertTarget.name.in_(targets))
            ids = list(await session.scalars(query))
            for group in filter(None, groups):
                session.add_all(_delivery(target_id, group, now) for target_id in ids)
        return len(ids) * sum(1 for g in groups if g)

    async def deliver_due(self, only: Sequence[int] = ()) -> int:
        """Try every delivery that is due, in order per target; returns how many were delivered."""
        async with self._pass:
            now = self._clock()
            heads = await self._due(now, only)
            delivered = 0
            for target, deliveries in heads:
                for delivery_id, notices in deliveries:
                    if not await self._attempt(target, delivery_id, notices):
                        break  # the rest wait behind it, in order
                    delivered += 1
            return delivered

    async def deliveries(
        self, actor: Principal, target: str | None = None, limit: int = 50
    ) -> list[DeliveryView]:
        """The delivery log, newest first (admins only)."""
        _admin(actor, "read the delivery log")
        async with self._sessions() as session:
            query = (
                select(AlertDelivery, AlertTarget.name)
                .join(AlertTarget)
                .order_by(AlertDelivery.id.desc())
                .limit(max(1, min(limit, 1000)))
            )
            if target is not None:
                await _target(session, target)
                query = query.where(AlertTarget.name == target)
            return [_delivery_view(row, name) for row, name in await session.execute(query)]

    async def _due(
        self, now: datetime, only: Sequence[int]
    ) -> list[tuple[Target, list[tuple[int, list[AlertNotice]]]]]:
        box = await self._box()
        async with self._sessions.begin() as session:
            expired = select(AlertDelivery).where(
                AlertDelivery.state == DeliveryState.WAITING.value,
                AlertDelivery.created_at < now - EXPIRE_AFTER,
            )
            for row in await session.scalars(expired):
                row.state = DeliveryState.EXPIRED.value
                row.next_attempt_at = None
                logger.warning("notification %d expired after %d attempts", row.id, row.attempts)
            waiting = (
                select(AlertDelivery, AlertTarget)
                .join(AlertTarget)
                .where(AlertDelivery.state == DeliveryState.WAITING.value)
                .order_by(AlertDelivery.target_id, AlertDelivery.id)
            )
            if only:
                waiting = waiting.where(AlertDelivery.id.in_(only))
            groups: dict[int, tuple[Target, list[tuple[int, list[AlertNotice]]]]] = {}
            blocked: set[int] = set()
            for delivery, target in await session.execute(waiting):
                if target.id in blocked:
                    continue
                if target.id not in groups:
                    due = delivery.next_attempt_at is None or delivery.next_attempt_at <= now
                    if not due:
                        blocked.add(target.id)  # its oldest waits for its back-off
                        continue
                    groups[target.id] = (_target_for_send(target, box), [])
                notices = [AlertNotice.model_validate(n) for n in delivery.notices]
                groups[target.id][1].append((delivery.id, notices))
            return list(groups.values())

    async def _attempt(self, target: Target, delivery_id: int, notices: list[AlertNotice]) -> bool:
        error: str | None = None
        try:
            await send(target, notices, delivery_id)
        except DeliveryFailed as exc:
            error = str(exc)
        except Exception as exc:  # a sender's own bug must not stop the other targets
            logger.exception("notification %d to %s failed unexpectedly", delivery_id, target.name)
            error = f"{type(exc).__name__}: {exc}"
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(AlertDelivery, delivery_id)
            if row is None:
                return error is None  # its target was removed meanwhile
            row.attempts += 1
            if error is None:
                row.state = DeliveryState.DELIVERED.value
                row.delivered_at = now
                row.next_attempt_at = None
                row.last_error = None
            else:
                row.last_error = error
                row.next_attempt_at = now + backoff(row.attempts)
                logger.info("notification %d to %s: %s (retrying)", delivery_id, target.name, error)
        return error is None

    async def _delivery_view(self, delivery_id: int) -> DeliveryView:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(AlertDelivery, AlertTarget.name)
                    .join(AlertTarget)
                    .where(AlertDelivery.id == delivery_id)
                )
            ).one()
            return _delivery_view(row[0], row[1])


def _admin(actor: Principal, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {what}")


async def _target(session: AsyncSession, name: str) -> AlertTarget:
    row = await session.scalar(select(AlertTarget).where(AlertTarget.name == name))
    if row is None:
        raise NotFound(f"no notification target named {name!r}")
    return row


def _delivery(target_id: int, notices: Sequence[AlertNotice], now: datetime) -> AlertDelivery:
    firing = any(n.state is AlertState.FIRING for n in notices)
    return AlertDelivery(
        target_id=target_id,
        alert=", ".join(sorted({n.name for n in notices}))[:200],
        alert_state=(AlertState.FIRING if firing else AlertState.RESOLVED).value,
        notices=[n.model_dump(mode="json") for n in notices],
        state=DeliveryState.WAITING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _target_for_send(row: AlertTarget, box: SecretBox) -> Target:
    secret = box.decrypt(row.secret_ciphertext) if row.secret_ciphertext else None
    return Target(row.name, TargetKind(row.kind), box.decrypt(row.url_ciphertext), secret)


def _view(row: AlertTarget) -> TargetView:
    return TargetView(
        name=row.name,
        kind=TargetKind(row.kind),
        url=row.shown_url,
        signed=row.secret_ciphertext is not None,
        created_at=row.created_at,
    )


def _delivery_view(row: AlertDelivery, target: str) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        target=target,
        alert=row.alert,
        state=DeliveryState(row.state),
        alert_state=AlertState(row.alert_state),
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
