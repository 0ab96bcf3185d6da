"""DTOs of alerting: what a notification says, where notifications go, how delivery went."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator

from mcp_console.schemas.base import Dto, RequestBody


class AlertState(StrEnum):
    """Where an alert is in its life: pending (seen, not yet for long enough), firing, resolved."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertNotice(Dto):
    """One alert as a notification carries it.

    Attributes:
        fingerprint: the same for every notice of one alert (its rule and labels), so a
            receiver can tell a repeat or a resolution from a new alert.
        labels: what the alert is about (``alertname``, ``severity``, ``deployment``, ...).
        annotations: what a person reads (``summary``, ``description``).
    """

    fingerprint: str
    state: AlertState
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None

    @property
    def name(self) -> str:
        """The rule's name (the ``alertname`` label)."""
        return self.labels.get("alertname", self.fingerprint)


class TargetKind(StrEnum):
    """How a target is reached: a plain webhook, Alertmanager's v2 API, or an apprise URL."""

    WEBHOOK = "webhook"
    ALERTMANAGER = "alertmanager"
    APPRISE = "apprise"


class TargetCreate(RequestBody):
    """A new notification target.

    Attributes:
        name: how rules and commands refer to it.
        url: ``http(s)://...`` (a webhook), ``alertmanager://HOST:PORT`` (or
            ``alertmanagers://`` for HTTPS), or any URL apprise speaks (``slack://...``,
            ``mailto://...``, ``json://...``).
        secret: for a webhook, the key its requests are signed with (HMAC-SHA256).
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(default=None, min_length=16, max_length=256, repr=False)


class TargetView(Dto):
    """A target as listed: its URL with credentials masked."""

    name: str
    kind: TargetKind
    url: str
    signed: bool
    created_at: datetime


class DeliveryState(StrEnum):
    """A notification to one target: waiting (to be tried, or again), delivered, or expired."""

    WAITING = "waiting"
    DELIVERED = "delivered"
    EXPIRED = "expired"


class DeliveryView(Dto):
    """One notification to one target, with how its attempts went."""

    id: int
    target: str
    alert: str
    state: DeliveryState
    alert_state: AlertState
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class Comparison(StrEnum):
    """How a rule compares its metric with its threshold."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def holds(self, value: float, threshold: float) -> bool:
        """Whether ``value <op> threshold``."""
        return _COMPARE[self.value](value, threshold)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def comparison(op: str) -> Callable[[float, float], bool]:
    """The function an ``op`` as stored (``">"``, ...) compares with."""
    return _COMPARE[op]


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


# What a rule may watch, per deployment, over its window. The one list: the engine computes
# exactly these, the CLI and API accept exactly these.
ALERT_METRICS: dict[str, str] = {
    "requests_per_s": "requests per second through the gateway",
    "errors": "failed requests (JSON-RPC errors, HTTP failures, refusals)",
    "error_rate": "failed requests / requests (0..1; no value without requests)",
    "p50_ms": "median latency, ms",
    "p95_ms": "95th percentile latency, ms",
    "p99_ms": "99th percentile latency, ms",
    "restarts": "instance restarts",
    "cpu_percent": "mean CPU of its instances, % of one core",
    "memory_mb": "highest resident memory of an instance, MiB",
    "instances_unavailable": "replicas asked for and not running healthy (now)",
    "crash_looping": "instances restarting again and again, or given up on (now)",
    "definition_drift": "tool, prompt or template definitions changed and not approved (now)",
}

# Labels the engine sets itself on every alert.
RESERVED_LABELS = frozenset({"alertname", "severity", "deployment"})
_RULE_NAME = r"^[A-Za-z][A-Za-z0-9_.-]*$"
_LABEL = r"^[A-Za-z_][A-Za-z0-9_]*$"


class RuleCreate(RequestBody):
    """A new alert rule: ``metric <op> threshold`` over ``window_s``, true for ``for_s``.

    Attributes:
        deployment: only this deployment (``NAME`` or ``OWNER/NAME``); ``None``: every one.
        labels: added to the alert's labels (for routing and silences).
    """

    name: str = Field(min_length=1, max_length=64, pattern=_RULE_NAME)
    metric: str
    op: Comparison = Comparison.GT
    threshold: float
    window_s: int = Field(default=300, ge=10, le=30 * 86400)
    for_s: int = Field(default=0, ge=0, le=86400)
    severity: Severity = Severity.WARNING
    deployment: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    description: str = Field(default="", max_length=500)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in ALERT_METRICS:
            raise ValueError(f"unknown metric {metric!r}; one of: {', '.join(ALERT_METRICS)}")
        return metric

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not re.match(_LABEL, name) or name in RESERVED_LABELS:
                raise ValueError(f"not a label name you may set: {name!r}")
        return labels


class RuleView(Dto):
    """An alert rule as listed; built-in rules can be disabled but not removed."""

    name: str
    metric: str
    op: Comparison
    threshold: float
    window_s: int
    for_s: int
    severity: Severity
    deployment: str | None
    labels: dict[str, str]
    description: str
    builtin: bool
    enabled: bool


class AlertView(Dto):
    """One alert: a rule's condition held for one deployment."""

    id: int
    rule: str
    state: AlertState
    severity: Severity
    labels: dict[str, str]
    value: float | None
    summary: str
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    acknowledged_by: str | None
    silenced: bool


class SilenceCreate(RequestBody):
    """Mute notifications of alerts whose labels match all ``matchers`` for ``duration_s``."""

    matchers: dict[str, str] = Field(min_length=1)
    duration_s: int = Field(ge=60, le=90 * 86400)
    comment: str = Field(default="", max_length=500)


class SilenceView(Dto):
    """A silence as listed."""

    id: int
    matchers: dict[str, str]
    comment: str
    created_by: str
    created_at: datetime
    ends_at: datetime
    active: bool
