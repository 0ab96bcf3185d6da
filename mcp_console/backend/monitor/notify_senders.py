"""Sending notices to one target: a (signed) webhook, Alertmanager's v2 API, or apprise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from mcp_console.backend.monitor.notify_signing import DELIVERY_HEADER, signed_headers
from mcp_console.backend.monitor.notify_targets import alertmanager_base, mask_url
from mcp_console.schemas.alerts import AlertNotice, AlertState, TargetKind

SEND_TIMEOUT_S = 10.0
PAYLOAD_VERSION = "1"


class DeliveryFailed(Exception):
    """The target did not take the notification; the message says why (no credentials)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A target with its decrypted URL and secret (held only while sending)."""

    name: str
    kind: TargetKind
    url: str
    secret: str | None


async def send(target: Target, notices: Sequence[AlertNotice], delivery_id: int) -> None:
    """Deliver ``notices`` to ``target``.

    Raises:
        DeliveryFailed: the target refused or could not be reached.
    """
    if target.kind is TargetKind.WEBHOOK:
        await _webhook(target, notices, delivery_id)
    elif target.kind is TargetKind.ALERTMANAGER:
        await _alertmanager(target, notices)
    else:
        await _apprise(target, notices)


def webhook_body(notices: Sequence[AlertNotice]) -> bytes:
    """The JSON a webhook receives (Alertmanager's webhook shape, so its receivers fit)."""
    firing = any(n.state is AlertState.FIRING for n in notices)
    document = {
        "version": PAYLOAD_VERSION,
        "status": "firing" if firing else "resolved",
        "alerts": [
            {
                "status": "firing" if n.state is AlertState.FIRING else "resolved",
                "fingerprint": n.fingerprint,
                "labels": n.labels,
                "annotations": n.annotations,
                "startsAt": n.starts_at.isoformat(),
                "endsAt": n.ends_at.isoformat() if n.ends_at else None,
            }
            for n in notices
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()


async def _webhook(target: Target, notices: Sequence[AlertNotice], delivery_id: int) -> None:
    body = webhook_body(notices)
    headers = {"content-type": "application/json", DELIVERY_HEADER: str(delivery_id)}
    if target.secret:
        headers.update(signed_headers(target.secret, body, delivery_id))
    await _post(target, target.url, body, headers)


async def _alertmanager(target: Target, notices: Sequence[AlertNotice]) -> None:
    alerts = []
    for n in notices:
        alert: dict[str, object] = {
            "labels": n.labels,
            "annotations": n.annotations,
            "startsAt": n.starts_at.isoformat(),
        }
        if n.state is AlertState.RESOLVED and n.ends_at is not None:
            # A past end resolves it there; never one ahead of this clock (it would stay on).
            alert["endsAt"] = min(n.ends_at, datetime.now(UTC)).isoformat()
        alerts.append(alert)
    body = json.dumps(alerts, separators=(",", ":")).encode()
    url = f"{alertmanager_base(target.url)}/api/v2/alerts"
    await _post(target, url, body, {"content-type": "application/json"})


async def _post(target: Target, url: str, body: bytes, headers: dict[str, str]) -> None:
    shown = mask_url(target.url)
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT_S, follow_redirects=False) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{shown}: {type(exc).__name__}: {_short(str(exc))}") from None
    if response.status_code >= 300:
        raise DeliveryFailed(f"{shown} answered {response.status_code}: {_short(response.text)}")


async def _apprise(target: Target, notices: Sequence[AlertNotice]) -> None:
    import apprise

    client = apprise.Apprise()
    if not client.add(target.url):
        raise DeliveryFailed(f"{mask_url(target.url)} is not a URL apprise can use")
    firing = [n for n in notices if n.state is AlertState.FIRING]
    title = f"[{'FIRING' if firing else 'RESOLVED'}] " + ", ".join(n.name for n in notices)
    lines = []
    for n in notices:
        summary = n.annotations.get("summary") or n.annotations.get("description") or n.name
        labels = ", ".join(f"{k}={v}" for k, v in sorted(n.labels.items()))
        lines.append(f"{n.state.value.upper()}: {summary} ({labels})")
    kind = apprise.NotifyType.FAILURE if firing else apprise.NotifyType.SUCCESS
    result = await client.async_notify(title=title, body="\n".join(lines), notify_type=kind)
    if not result:
        raise DeliveryFailed(f"{mask_url(target.url)}: apprise reports {result.status}")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
