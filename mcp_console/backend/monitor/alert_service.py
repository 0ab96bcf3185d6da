"""Alerts as people see them: listed by who may see their deployment, acknowledged,
silenced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import Alert, AlertRule, AlertSilence, ServiceDeployment
from mcp_console.backend.deploy.access import grant_access, require
from mcp_console.backend.deploy.deployment_record import load_states
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.backend.monitor.alert_engine import matches
from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    Severity,
    SilenceCreate,
    SilenceView,
)
from mcp_console.schemas.errors import Forbidden, NotFound
from mcp_console.schemas.users import Principal

HISTORY_LIMIT = 200


class AlertService:
    """Alerts listed, acknowledged and silenced.

    Args:
        sessions: the database.
        clock: the current time (tests pass their own).
        events: where each change is told (nobody hears it without a bus).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        events: EventBus | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events = events if events is not None else EventBus()

    async def alerts(self, actor: Principal, *, everything: bool = False) -> list[AlertView]:
        """Pending and firing alerts (``everything``: resolved ones too, newest first) of the
        deployments the actor may see (an admin: all)."""
        now = self._clock()
        async with self._sessions() as session:
            query = select(Alert, AlertRule.name).join(AlertRule).order_by(Alert.id.desc())
            if not everything:
                query = query.where(Alert.state != AlertState.RESOLVED.value)
            rows = (await session.execute(query.limit(HISTORY_LIMIT))).all()
            visible = await _visible(session, actor, {a.deployment_id for a, _ in rows})
            silences = await _active_silences(session, now)
            return [
                _view(alert, rule, silences)
                for alert, rule in rows
                if actor.is_admin or alert.deployment_id in visible
            ]

    async def acknowledge(self, actor: Principal, alert_id: int) -> AlertView:
        """Acknowledge a firing alert: no more repeats of it (its operators and admins).

        Raises:
            NotFound: no such alert the actor may see.
            Forbidden: the actor may see it but not acknowledge it.
        """
        async with self._sessions.begin() as session:
            row = await session.get(Alert, alert_id)
            if row is None:
                raise NotFound(f"no alert {alert_id}", field="id")
            if not actor.is_admin:
                states = await load_states(session, ServiceDeployment.id == row.deployment_id)
                shown = await grant_access(session, actor, states)
                if not shown:
                    raise NotFound(f"no alert {alert_id}", field="id")
                require(shown[0], "acknowledge")
            changed = row.acknowledged_by != actor.name
            row.acknowledged_by = actor.name
            rule = await session.get(AlertRule, row.rule_id)
            assert rule is not None
            view = _view(row, rule.name, await _active_silences(session, self._clock()))
        if changed:
            where = {} if row.deployment_id is None else {"deployment_id": row.deployment_id}
            self._publish(actor, "alert.acknowledged", alert_id=alert_id, rule=rule.name, **where)
        return view

    async def silence(self, actor: Principal, new: SilenceCreate) -> SilenceView:
        """Mute notifications of matching alerts for a while (admins)."""
        _admin(actor, "silence alerts")
        now = self._clock()
        row = AlertSilence(
            matchers=dict(new.matchers),
            comment=new.comment,
            created_by=actor.name,
            created_at=now,
            ends_at=now + timedelta(seconds=new.duration_s),
        )
        async with self._sessions.begin() as session:
            session.add(row)
        view = _silence_view(row, now)
        self._publish(
            actor,
            "alert.silenced",
            silence_id=row.id,
            matchers=row.matchers,
            duration_s=new.duration_s,
        )
        return view

    async def silences(self, actor: Principal) -> list[SilenceView]:
        """Silences that have not ended, soonest end first (admins)."""
        _admin(actor, "list silences")
        now = self._clock()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AlertSilence)
                .where(AlertSilence.ends_at > now)
                .order_by(AlertSilence.ends_at)
            )
            return [_silence_view(r, now) for r in rows]

    async def expire_silence(self, actor: Principal, silence_id: int) -> SilenceView:
        """End a silence now (admins)."""
        _admin(actor, "end silences")
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(AlertSilence, silence_id)
            if row is None:
                raise NotFound(f"no silence {silence_id}", field="id")
            changed = row.ends_at > now
            row.ends_at = min(row.ends_at, now)
            view = _silence_view(row, now)
        if changed:
            self._publish(actor, "alert.silence.ended", silence_id=silence_id)
        return view

    def _publish(self, actor: Principal, kind: str, **fields: object) -> None:
        self._events.publish({"type": kind, **fields, **acted_by(actor)})


def _admin(actor: Principal, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {what}")


async def _visible(session: AsyncSession, actor: Principal, ids: set[int | None]) -> set[int]:
    wanted = [i for i in ids if i is not None]
    if actor.is_admin or not wanted:
        return set(wanted)
    states = await load_states(session, ServiceDeployment.id.in_(wanted), with_secrets=False)
    return {s.id for s in await grant_access(session, actor, states)}


async def _active_silences(session: AsyncSession, now: datetime) -> list[dict[str, str]]:
    rows = await session.scalars(select(AlertSilence).where(AlertSilence.ends_at > now))
    return [r.matchers for r in rows]


def _view(alert: Alert, rule: str, silences: list[dict[str, str]]) -> AlertView:
    return AlertView(
        id=alert.id,
        rule=rule,
        state=AlertState(alert.state),
        severity=Severity(alert.labels.get("severity", Severity.WARNING.value)),
        labels=dict(alert.labels),
        value=alert.value,
        summary=f"{rule} on {alert.labels.get('deployment', '?')}",
        started_at=alert.started_at,
        fired_at=alert.fired_at,
        resolved_at=alert.resolved_at,
        acknowledged_by=alert.acknowledged_by,
        silenced=any(matches(m, alert.labels) for m in silences),
    )


def _silence_view(row: AlertSilence, now: datetime) -> SilenceView:
    return SilenceView(
        id=row.id,
        matchers=dict(row.matchers),
        comment=row.comment,
        created_by=row.created_by,
        created_at=row.created_at,
        ends_at=row.ends_at,
        active=row.ends_at > now,
    )
