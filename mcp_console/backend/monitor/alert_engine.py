"""The alert engine: evaluates every enabled rule for every deployment, moves alerts through
pending → firing → resolved, and hands what changed to the notifications."""

# Hysteresis both ways: an alert fires once its condition has held for the rule's ``for``,
# and resolves once the condition has not held for as long (at least RESOLVE_INTERVALS
# evaluations), so a figure hovering at its threshold does not flap. A firing alert is
# notified again after ``alert_repeat`` unless acknowledged. Silences mute notifications,
# not states: an alert still firing when its silence ends is notified then.

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import Alert, AlertRule, AlertSilence
from mcp_console.backend.monitor.alert_metrics import deployments_running, figures
from mcp_console.backend.monitor.alert_windows import Tier
from mcp_console.backend.monitor.notifications import Notifications
from mcp_console.schemas.alerts import AlertNotice, AlertState, comparison
from mcp_console.settings import MonitorSettings

logger = logging.getLogger(__name__)

RESOLVE_INTERVALS = 2
_OPEN = (AlertState.PENDING.value, AlertState.FIRING.value)

Wanted = set[tuple[str, int]]
Values = dict[tuple[str, int], dict[int, float]]
# The deployments to watch (id → owner/name) and each wanted (metric, window)'s values.
FigureSource = Callable[
    [AsyncConnection, Wanted, datetime], Awaitable[tuple[dict[int, str], Values]]
]


@dataclass(frozen=True, slots=True)
class Rule:
    """What an evaluation reads of a rule (plain values: no ORM objects per rule)."""

    id: int
    name: str
    metric: str
    op: str
    threshold: float
    window_s: int
    for_s: int
    severity: str
    deployment_id: int | None
    labels: dict[str, str]
    description: str
    enabled: bool


_RULE_COLUMNS = tuple(getattr(AlertRule, name) for name in Rule.__slots__)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one evaluation did."""

    rules: int
    firing: int
    pending: int
    notices: int


def fingerprint(rule: str, deployment_id: int) -> str:
    """The same for every evaluation of one rule on one deployment."""
    return hashlib.sha256(f"{rule}\0{deployment_id}".encode()).hexdigest()[:16]


def matches(matchers: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether a silence's matchers (label = value, all of them) match an alert's labels."""
    return all(labels.get(name) == value for name, value in matchers.items())


class AlertEngine:
    """Evaluates the alert rules (the scheduler calls ``evaluate`` every ``alert_interval``).

    Args:
        engine: the database, read for figures.
        sessions: the database, for rules and alerts.
        notifications: where notices go.
        settings: intervals, repeat and the history's tiers.
        clock: the current time (tests pass their own).
        source: where figures come from (the metrics history and the instances by default).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        notifications: Notifications,
        settings: MonitorSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        source: FigureSource | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._notifications = notifications
        self._settings = settings
        self._clock = clock
        self._lock = asyncio.Lock()
        self._tiers = (
            Tier(10, settings.keep_10s),
            Tier(60, settings.keep_1m),
            Tier(3600, settings.keep_1h),
        )
        self._source = source or self._from_history

    async def evaluate(self) -> Evaluation:
        """Evaluate every enabled rule once, then queue the notices (and try them)."""
        async with self._lock:
            now = self._clock()
            async with self._engine.connect() as conn:
                rules = [Rule(*row) for row in await conn.execute(select(*_RULE_COLUMNS))]
                wanted = {(r.metric, r.window_s) for r in rules if r.enabled}
                names, values = await self._source(conn, wanted, now)
            async with self._sessions.begin() as session:
                result, notices = await self._step(session, rules, names, values, now)
        if notices:
            await self._notifications.notify(notices)
            await self._notifications.deliver_due()
        return result

    async def _from_history(
        self, conn: AsyncConnection, wanted: Wanted, now: datetime
    ) -> tuple[dict[int, str], Values]:
        names = await deployments_running(conn)
        return names, await figures(conn, wanted, now, self._tiers, names)

    async def _step(
        self,
        session: AsyncSession,
        rules: Sequence[Rule],
        names: dict[int, str],
        values: Values,
        now: datetime,
    ) -> tuple[Evaluation, list[AlertNotice]]:
        open_alerts = {
            (a.rule_id, a.deployment_id): a
            for a in await session.scalars(select(Alert).where(Alert.state.in_(_OPEN)))
        }
        silences = [
            s.matchers
            for s in await session.scalars(select(AlertSilence).where(AlertSilence.ends_at > now))
        ]
        notices: list[AlertNotice] = []
        resolve_floor = timedelta(seconds=RESOLVE_INTERVALS * self._settings.alert_interval)
        by_id = {rule.id: rule for rule in rules}
        still_open: list[Alert] = []
        enabled = [rule for rule in rules if rule.enabled]
        for rule in enabled:
            only = rule.deployment_id
            targets = names if only is None else {only: names[only]} if only in names else {}
            found = values.get((rule.metric, rule.window_s), {})
            compare, threshold = comparison(rule.op), rule.threshold
            for deployment_id, name in targets.items():
                value = found.get(deployment_id)
                holds = value is not None and compare(value, threshold)
                alert = open_alerts.pop((rule.id, deployment_id), None)
                if alert is None and not holds:
                    continue
                if alert is None:
                    alert = Alert(
                        rule_id=rule.id,
                        deployment_id=deployment_id,
                        fingerprint=fingerprint(rule.name, deployment_id),
                        labels=_labels(rule, name),
                        state=AlertState.PENDING.value,
                        started_at=now,
                    )
                    session.add(alert)
                alert.value = value
                hold_for = timedelta(seconds=rule.for_s)
                told = self._advance(alert, rule, holds, now, hold_for, resolve_floor)
                if alert.state == AlertState.RESOLVED.value and alert.fired_at is None:
                    await session.delete(alert)  # pending, never fired: nothing to keep
                    continue
                if alert.state != AlertState.RESOLVED.value:
                    still_open.append(alert)
                if told is not None and not any(matches(m, alert.labels) for m in silences):
                    alert.notified_at = now
                    notices.append(_notice(alert, rule))
        # Alerts whose rule was disabled or whose deployment no longer runs: over now.
        for alert in open_alerts.values():
            if alert.state == AlertState.PENDING.value:
                await session.delete(alert)
                continue
            alert.state, alert.resolved_at = AlertState.RESOLVED.value, now
            owner = by_id.get(alert.rule_id)
            if owner is not None and not any(matches(m, alert.labels) for m in silences):
                notices.append(_notice(alert, owner))
        await session.flush()
        states = [a.state for a in still_open]
        result = Evaluation(
            rules=len(enabled),
            firing=states.count(AlertState.FIRING.value),
            pending=states.count(AlertState.PENDING.value),
            notices=len(notices),
        )
        return result, notices

    def _advance(
        self,
        alert: Alert,
        rule: Rule,
        holds: bool,
        now: datetime,
        hold_for: timedelta,
        resolve_floor: timedelta,
    ) -> AlertState | None:
        """Move one alert on; the state to notify, if any."""
        if alert.state == AlertState.PENDING.value:
            if not holds:
                alert.state, alert.resolved_at = AlertState.RESOLVED.value, now
                return None  # never fired: nobody was told, nobody needs to be
            if now - alert.started_at >= hold_for:
                alert.state, alert.fired_at = AlertState.FIRING.value, now
                return AlertState.FIRING
            return None
        # Firing.
        if holds:
            alert.clear_since = None
            repeat = self._settings.alert_repeat
            due = alert.notified_at is None or now - alert.notified_at >= repeat
            return AlertState.FIRING if due and alert.acknowledged_by is None else None
        if alert.clear_since is None:
            alert.clear_since = now
        if now - alert.clear_since >= max(hold_for, resolve_floor):
            alert.state, alert.resolved_at = AlertState.RESOLVED.value, now
            return AlertState.RESOLVED
        return None


def _labels(rule: Rule, deployment: str) -> dict[str, str]:
    return {
        **rule.labels,
        "alertname": rule.name,
        "severity": rule.severity,
        "deployment": deployment,
    }


def _notice(alert: Alert, rule: Rule) -> AlertNotice:
    value = "no value" if alert.value is None else f"{alert.value:g}"
    summary = (
        f"{rule.name} on {alert.labels.get('deployment')}: {rule.metric} is {value} "
        f"({rule.op} {rule.threshold:g})"
    )
    return AlertNotice(
        fingerprint=alert.fingerprint,
        state=AlertState(alert.state),
        labels=dict(alert.labels),
        annotations={"summary": summary, "description": rule.description},
        starts_at=alert.fired_at or alert.started_at,
        ends_at=alert.resolved_at,
    )
