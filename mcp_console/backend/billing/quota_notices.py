"""Quota use as alert notices: 80 % and 100 % of a limit, once per period, to the targets."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

from mcp_console.backend.billing.quota_book import ONE, Limit
from mcp_console.schemas.alerts import AlertNotice, AlertState

ALERT_NAME = "QuotaUse"


def quota_notice(limit: Limit, level: Decimal, now: datetime) -> AlertNotice:
    """The notice that ``limit`` reached ``level`` (a fraction of what it allows)."""
    percent = int(level * 100)
    whose = f"{limit.scope.value} {limit.subject}"
    what = f"{limit.kind.value} per {limit.period.value}"
    used = f"{limit.used.normalize():f} of {limit.allowed.normalize():f}"
    ends = datetime.fromtimestamp(limit.ends, UTC)
    summary = (
        f"{whose} has reached its {what} quota ({used}): calls over it are refused"
        if level >= ONE
        else f"{whose} has used {percent} % of its {what} quota ({used})"
    )
    description = (
        "Calls over the quota are refused with a JSON-RPC error until it resets at "
        f"{ends:%Y-%m-%dT%H:%M:%SZ}; raise it with 'mcp-console billing quota set'."
        if level >= ONE
        else f"At 100 % calls are refused until it resets at {ends:%Y-%m-%dT%H:%M:%SZ}."
    )
    key = f"{ALERT_NAME}:{limit.id}:{limit.starts:.0f}:{percent}"
    return AlertNotice(
        fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],
        state=AlertState.FIRING,
        labels={
            "alertname": ALERT_NAME,
            "severity": "critical" if level >= ONE else "warning",
            "scope": limit.scope.value,
            "subject": limit.subject,
            "quota": str(limit.id),
            "percent": str(percent),
        },
        annotations={"summary": summary, "description": description},
        starts_at=now,
    )
