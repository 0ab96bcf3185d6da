"""DTOs of alerting: what a notification says, where notifications go, how delivery went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

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
