"""Alert rules: the built-in ones, rules admins add, and their export as Prometheus rules."""

from __future__ import annotations

from collections.abc import Sequence

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mcp_console.backend.db.models import AlertRule, ServiceDeployment, User
from mcp_console.backend.deploy.lookup import find
from mcp_console.backend.events import EventBus, acted_by
from mcp_console.schemas.alerts import Comparison, RuleCreate, RuleView, Severity
from mcp_console.schemas.errors import Conflict, Forbidden, Invalid, NotFound
from mcp_console.schemas.users import Principal

# On by default (an admin may disable them, not remove them).
BUILTIN_RULES: tuple[RuleCreate, ...] = (
    RuleCreate(
        name="InstanceDown",
        metric="instances_unavailable",
        op=Comparison.GT,
        threshold=0,
        window_s=60,
        for_s=60,
        severity=Severity.CRITICAL,
        description="fewer healthy instances than the deployment asks for",
    ),
    RuleCreate(
        name="CrashLoop",
        metric="crash_looping",
        op=Comparison.GT,
        threshold=0,
        window_s=60,
        severity=Severity.CRITICAL,
        description="an instance crashes again and again, or was given up on",
    ),
    RuleCreate(
        name="HighErrorRate",
        metric="error_rate",
        op=Comparison.GT,
        threshold=0.05,
        window_s=300,
        for_s=120,
        severity=Severity.WARNING,
        description="more than 5% of requests fail",
    ),
    RuleCreate(
        name="HighLatencyP95",
        metric="p95_ms",
        op=Comparison.GT,
        threshold=2000,
        window_s=300,
        for_s=300,
        severity=Severity.WARNING,
        description="the slowest 5% of requests take more than 2 s",
    ),
    RuleCreate(
        name="FrequentRestarts",
        metric="restarts",
        op=Comparison.GE,
        threshold=3,
        window_s=3600,
        severity=Severity.WARNING,
        description="instances restarted three times or more within an hour",
    ),
    RuleCreate(
        name="ToolDefinitionDrift",
        metric="definition_drift",
        op=Comparison.GT,
        threshold=0,
        window_s=60,
        severity=Severity.CRITICAL,
        description="the server lists tools, prompts or templates that differ from the ones "
        "its operators approved (a possible rug pull): review them with 'deploy drift' "
        "and approve them with 'deploy approve'",
    ),
)

# PromQL of each metric /metrics exports; the others have no Prometheus counterpart yet.
_REQUESTS = "mcp_console_gateway_requests_total"
_DURATION = "mcp_server_operation_duration_seconds_bucket"
_PROMQL = {
    "requests_per_s": "sum by (deployment) (rate({requests}{{{sel}}}[{w}]))",
    "errors": 'sum by (deployment) (increase({requests}{{{sel}error_type!=""}}[{w}]))',
    "error_rate": 'sum by (deployment) (rate({requests}{{{sel}error_type!=""}}[{w}])) / '
    "sum by (deployment) (rate({requests}{{{sel}}}[{w}]))",
    "restarts": "sum by (deployment) "
    "(increase(mcp_console_deployment_restarts_total{{{sel}}}[{w}]))",
    "cpu_percent": "avg by (deployment) "
    "(avg_over_time(mcp_console_instance_cpu_percent{{{sel}}}[{w}]))",
    "memory_mb": "max by (deployment) "
    "(max_over_time(mcp_console_instance_memory_bytes{{{sel}}}[{w}])) / 1048576",
    # Restarting at all counts here (the console's own rule waits for a second restart).
    "crash_looping": "sum by (deployment) "
    '(mcp_console_deployment_instances{{{sel}status=~"restarting|failed"}})',
    **{
        metric: f"histogram_quantile({q}, sum by (deployment, le) "
        "(rate({duration}{{{sel}}}[{w}]))) * 1000"
        for metric, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))
    },
}


class AlertRules:
    """Alert rules: built-ins seeded once, admins add, remove, enable and disable.

    Args:
        sessions: the database.
        events: where each change is told (nobody hears it without a bus).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], events: EventBus | None = None
    ) -> None:
        self._sessions = sessions
        self._events = events if events is not None else EventBus()

    async def seed(self) -> None:
        """Add the built-in rules missing from the database (an admin's changes stay)."""
        async with self._sessions.begin() as session:
            have = set(await session.scalars(select(AlertRule.name)))
            for rule in BUILTIN_RULES:
                if rule.name not in have:
                    session.add(_row(rule, None, builtin=True))

    async def add(self, actor: Principal, new: RuleCreate) -> RuleView:
        """Add a rule (admins).

        Raises:
            Forbidden: the caller is no admin.
            NotFound: the named deployment is not there.
            Conflict: a rule has that name.
        """
        _admin(actor, "add alert rules")
        try:
            async with self._sessions.begin() as session:
                deployment_id = None
                if new.deployment is not None:
                    deployment_id = (await find(session, actor, new.deployment)).id
                row = _row(new, deployment_id, builtin=False)
                session.add(row)
                await session.flush()
                view = (await _views(session, [row]))[0]
        except IntegrityError:
            raise Conflict(f"an alert rule named {new.name!r} exists", field="name") from None
        fields = {"metric", "op", "threshold", "for_s", "severity", "deployment"}
        self._publish(actor, "alert.rule.added", view.name, **view.model_dump(include=fields))
        return view

    async def rules(self, actor: Principal) -> list[RuleView]:
        """Every rule by name (admins)."""
        _admin(actor, "list alert rules")
        async with self._sessions() as session:
            rows = list(await session.scalars(select(AlertRule).order_by(AlertRule.name)))
            return await _views(session, rows)

    async def remove(self, actor: Principal, name: str) -> None:
        """Remove a rule and its alerts (admins; built-ins can only be disabled).

        Raises:
            NotFound: no rule has that name.
            Invalid: it is built in.
        """
        _admin(actor, "remove alert rules")
        async with self._sessions.begin() as session:
            row = await _rule(session, name)
            if row.builtin:
                raise Invalid(
                    f"{name} is built in: disable it instead (alert rule disable {name})",
                    field="name",
                )
            await session.delete(row)
        self._publish(actor, "alert.rule.removed", name)

    async def set_enabled(self, actor: Principal, name: str, enabled: bool) -> RuleView:
        """Turn a rule on or off (admins); a rule turned off resolves its alerts."""
        _admin(actor, "enable or disable alert rules")
        async with self._sessions.begin() as session:
            row = await _rule(session, name)
            changed = row.enabled != enabled
            row.enabled = enabled
            view = (await _views(session, [row]))[0]
        if changed:
            self._publish(actor, f"alert.rule.{'enabled' if enabled else 'disabled'}", name)
        return view

    async def export_prometheus(self, actor: Principal) -> str:
        """The enabled rules Prometheus can evaluate from /metrics, as a rules file (YAML)."""
        rules = [r for r in await self.rules(actor) if r.enabled]
        return prometheus_rules(rules)

    def _publish(self, actor: Principal, kind: str, rule: str, **fields: object) -> None:
        self._events.publish({"type": kind, "rule": rule, **fields, **acted_by(actor)})


def prometheus_rules(rules: Sequence[RuleView]) -> str:
    """``rules`` as a Prometheus alerting rules file; rules on figures /metrics does not
    export are listed in a comment instead."""
    out, left = [], []
    for rule in rules:
        template = _PROMQL.get(rule.metric)
        if template is None:
            left.append(rule.name)
            continue
        sel = f'deployment="{rule.deployment}",' if rule.deployment else ""
        expr = template.format(
            requests=_REQUESTS, duration=_DURATION, sel=sel, w=f"{rule.window_s}s"
        )
        entry: dict[str, object] = {
            "alert": rule.name,
            "expr": f"{expr} {rule.op.value} {rule.threshold:g}",
            "labels": {**rule.labels, "severity": rule.severity.value},
            "annotations": {
                "summary": f"{rule.name} on {{{{ $labels.deployment }}}}: {rule.metric} is "
                f"{{{{ $value }}}} ({rule.op.value} {rule.threshold:g})",
                "description": rule.description,
            },
        }
        if rule.for_s:
            entry["for"] = f"{rule.for_s}s"
        out.append(entry)
    text = yaml.safe_dump({"groups": [{"name": "mcp-console", "rules": out}]}, sort_keys=False)
    if left:
        text = f"# Not exported (their figures are not on /metrics): {', '.join(left)}\n" + text
    return text


def _admin(actor: Principal, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {what}")


async def _rule(session: AsyncSession, name: str) -> AlertRule:
    row = await session.scalar(select(AlertRule).where(AlertRule.name == name))
    if row is None:
        raise NotFound(f"no alert rule named {name!r}", field="name")
    return row


def _row(rule: RuleCreate, deployment_id: int | None, *, builtin: bool) -> AlertRule:
    return AlertRule(
        name=rule.name,
        metric=rule.metric,
        op=rule.op.value,
        threshold=rule.threshold,
        window_s=rule.window_s,
        for_s=rule.for_s,
        severity=rule.severity.value,
        deployment_id=deployment_id,
        labels=dict(rule.labels),
        description=rule.description,
        builtin=builtin,
        enabled=True,
    )


async def _views(session: AsyncSession, rows: Sequence[AlertRule]) -> list[RuleView]:
    ids = {r.deployment_id for r in rows if r.deployment_id is not None}
    names: dict[int, str] = {}
    if ids:
        found = await session.execute(
            select(ServiceDeployment.id, User.name, ServiceDeployment.deployment_name)
            .join(User, User.id == ServiceDeployment.user_id)
            .where(ServiceDeployment.id.in_(ids))
        )
        names = {dep: f"{owner}/{name}" for dep, owner, name in found}
    return [
        RuleView(
            name=r.name,
            metric=r.metric,
            op=Comparison(r.op),
            threshold=r.threshold,
            window_s=r.window_s,
            for_s=r.for_s,
            severity=Severity(r.severity),
            deployment=names.get(r.deployment_id) if r.deployment_id is not None else None,
            labels=dict(r.labels),
            description=r.description,
            builtin=r.builtin,
            enabled=r.enabled,
        )
        for r in rows
    ]
