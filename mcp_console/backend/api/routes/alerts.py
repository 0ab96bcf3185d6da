"""Alerting routes: alerts (list, acknowledge), silences, rules and their export, notification
targets (add, list, remove, send a test) and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from mcp_console.backend.api.deps import Actor, RuntimeDep
from mcp_console.schemas.alerts import (
    AlertView,
    DeliveryView,
    RuleCreate,
    RuleView,
    SilenceCreate,
    SilenceView,
    TargetCreate,
    TargetView,
)

router = APIRouter(tags=["alerts"])

TargetName = Annotated[str, Path(description="The notification target's name.")]


@router.get("/alerts/targets")
async def list_targets(rt: RuntimeDep, actor: Actor) -> list[TargetView]:
    """Every notification target by name, URLs with credentials masked (admins)."""
    return await rt.notifications.list_targets(actor)


@router.post("/alerts/targets", status_code=status.HTTP_201_CREATED)
async def add_target(rt: RuntimeDep, actor: Actor, new: TargetCreate) -> TargetView:
    """Add a webhook (signed when a secret is given), Alertmanager or apprise target (admins)."""
    return await rt.notifications.add_target(actor, new)


@router.delete("/alerts/targets/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_target(rt: RuntimeDep, actor: Actor, name: TargetName) -> None:
    """Remove a target and its delivery log (admins)."""
    await rt.notifications.remove_target(actor, name)


@router.post("/alerts/targets/{name}/test")
async def test_target(rt: RuntimeDep, actor: Actor, name: TargetName) -> DeliveryView:
    """Send a test notification now; the delivery as it went (retried later if it failed)."""
    return await rt.notifications.test_target(actor, name)


@router.get("/alerts/deliveries")
async def deliveries(
    rt: RuntimeDep,
    actor: Actor,
    target: Annotated[str | None, Query(description="Only this target's.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[DeliveryView]:
    """The delivery log, newest first: attempts, the last error, when the next try is (admins)."""
    return await rt.notifications.deliveries(actor, target, limit)


AlertId = Annotated[int, Path(description="The alert's id.")]
SilenceId = Annotated[int, Path(description="The silence's id.")]
RuleName = Annotated[str, Path(description="The rule's name.")]


class EnabledBody(BaseModel):
    """Whether a rule is evaluated."""

    enabled: bool


@router.get("/alerts")
async def list_alerts(
    rt: RuntimeDep,
    actor: Actor,
    everything: Annotated[bool, Query(alias="all", description="Resolved ones too.")] = False,
) -> list[AlertView]:
    """Pending and firing alerts of the deployments the caller may see, newest first."""
    return await rt.alerts.alerts(actor, everything=everything)


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(rt: RuntimeDep, actor: Actor, alert_id: AlertId) -> AlertView:
    """Acknowledge an alert: it is not notified again (its deployment's operators, admins)."""
    return await rt.alerts.acknowledge(actor, alert_id)


@router.get("/alerts/silences")
async def list_silences(rt: RuntimeDep, actor: Actor) -> list[SilenceView]:
    """Silences that have not ended (admins)."""
    return await rt.alerts.silences(actor)


@router.post("/alerts/silences", status_code=status.HTTP_201_CREATED)
async def add_silence(rt: RuntimeDep, actor: Actor, new: SilenceCreate) -> SilenceView:
    """Mute notifications of alerts whose labels match, for a while (admins)."""
    return await rt.alerts.silence(actor, new)


@router.delete("/alerts/silences/{silence_id}")
async def expire_silence(rt: RuntimeDep, actor: Actor, silence_id: SilenceId) -> SilenceView:
    """End a silence now (admins)."""
    return await rt.alerts.expire_silence(actor, silence_id)


@router.get("/alerts/rules")
async def list_rules(rt: RuntimeDep, actor: Actor) -> list[RuleView]:
    """Every alert rule, built-in ones included (admins)."""
    return await rt.alert_rules.rules(actor)


@router.post("/alerts/rules", status_code=status.HTTP_201_CREATED)
async def add_rule(rt: RuntimeDep, actor: Actor, new: RuleCreate) -> RuleView:
    """Add an alert rule (admins)."""
    return await rt.alert_rules.add(actor, new)


@router.delete("/alerts/rules/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_rule(rt: RuntimeDep, actor: Actor, name: RuleName) -> None:
    """Remove a rule and its alerts (admins; built-in rules are disabled instead)."""
    await rt.alert_rules.remove(actor, name)


@router.put("/alerts/rules/{name}/enabled")
async def set_rule_enabled(
    rt: RuntimeDep, actor: Actor, name: RuleName, body: EnabledBody
) -> RuleView:
    """Turn a rule on or off (admins)."""
    return await rt.alert_rules.set_enabled(actor, name, body.enabled)


@router.get("/alerts/rules/export", response_class=PlainTextResponse)
async def export_rules(rt: RuntimeDep, actor: Actor) -> str:
    """The enabled rules as a Prometheus alerting rules file (YAML; admins)."""
    return await rt.alert_rules.export_prometheus(actor)
