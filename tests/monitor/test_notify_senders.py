"""Notices reach a signed webhook, a real Alertmanager and an apprise target; failures say why."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from mcp_console.backend.monitor.notify_senders import DeliveryFailed, Target, send
from mcp_console.backend.monitor.notify_signing import DELIVERY_HEADER, verify
from mcp_console.backend.monitor.notify_targets import mask_url, target_kind
from mcp_console.schemas.alerts import AlertNotice, AlertState, TargetKind
from mcp_console.schemas.errors import Invalid
from tests.monitor.alertmanager import alertmanager
from tests.monitor.receiver import receiving

SECRET = "s3cret-signing-key-0123456789"
STARTED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def notice(state: AlertState = AlertState.FIRING, name: str = "CrashLoop") -> AlertNotice:
    return AlertNotice(
        fingerprint="f00d",
        state=state,
        labels={"alertname": name, "severity": "critical", "deployment": "time"},
        annotations={"summary": "time restarts again and again"},
        starts_at=STARTED,
        ends_at=STARTED + timedelta(minutes=5) if state is AlertState.RESOLVED else None,
    )


async def test_a_signed_webhook_verifies_and_a_changed_body_or_old_timestamp_does_not() -> None:
    async with receiving() as receiver:
        target = Target("ops", TargetKind.WEBHOOK, f"{receiver.url}/hook", SECRET)
        await send(target, [notice()], delivery_id=7)

    [got] = receiver.requests
    assert got.path == "/hook"
    assert got.headers[DELIVERY_HEADER.lower()] == "7"
    body = json.loads(got.body)
    assert body["status"] == "firing"
    assert body["alerts"][0]["labels"]["alertname"] == "CrashLoop"
    assert verify(SECRET, got.headers, got.body)
    assert not verify(SECRET, got.headers, got.body.replace(b"firing", b"resolved"))
    assert not verify("another-secret-entirely-000", got.headers, got.body)
    # A captured request replayed ten minutes later is refused.
    assert not verify(SECRET, got.headers, got.body, now=time.time() + 600)


async def test_an_unsigned_webhook_carries_no_signature() -> None:
    async with receiving() as receiver:
        await send(Target("ops", TargetKind.WEBHOOK, receiver.url, None), [notice()], 1)
    [got] = receiver.requests
    assert "x-mcp-console-signature" not in got.headers


async def test_a_refusing_or_absent_receiver_fails_with_the_reason_and_no_credentials() -> None:
    async with receiving() as receiver:
        receiver.status = 503
        url = f"http://bot:hunter22@127.0.0.1:{receiver.port}/hook?token=tok-123"
        with pytest.raises(DeliveryFailed, match="answered 503") as refused:
            await send(Target("ops", TargetKind.WEBHOOK, url, SECRET), [notice()], 1)
    with pytest.raises(DeliveryFailed, match="ConnectError") as absent:
        await send(Target("ops", TargetKind.WEBHOOK, url, SECRET), [notice()], 1)
    for failure in (refused, absent):
        text = str(failure.value)
        assert "hunter22" not in text
        assert "tok-123" not in text
        assert SECRET not in text


async def test_apprise_delivers_to_a_json_receiver() -> None:
    async with receiving() as receiver:
        url = f"json://127.0.0.1:{receiver.port}/apprise"
        await send(Target("chat", target_kind(url), url, None), [notice()], 1)
        await send(Target("chat", TargetKind.APPRISE, url, None), [notice(AlertState.RESOLVED)], 2)
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert first["title"] == "[FIRING] CrashLoop"
    assert "time restarts again and again" in first["message"]
    assert second["title"] == "[RESOLVED] CrashLoop"


async def test_apprise_reports_an_unreachable_service() -> None:
    url = "json://127.0.0.1:9/nobody-listens"
    with pytest.raises(DeliveryFailed, match="apprise reports"):
        await send(Target("chat", TargetKind.APPRISE, url, None), [notice()], 1)


async def test_a_real_alertmanager_lists_the_alert_and_resolves_it(tmp_path: Path) -> None:
    with alertmanager(tmp_path) as base:
        url = base.replace("http://", "alertmanager://")
        assert target_kind(url) is TargetKind.ALERTMANAGER
        target = Target("am", TargetKind.ALERTMANAGER, url, None)
        await send(target, [notice()], 1)
        async with httpx.AsyncClient() as http:
            listed = (await http.get(f"{base}/api/v2/alerts")).json()
            assert [a["labels"]["alertname"] for a in listed] == ["CrashLoop"]
            assert listed[0]["status"]["state"] == "active"
            await send(target, [notice(AlertState.RESOLVED)], 2)
            active = (await http.get(f"{base}/api/v2/alerts", params={"active": "true"})).json()
            assert active == []


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("ftp://files.example/x", "not a notification URL"),
        ("alertmanager://am.example", "alertmanager://HOST:PORT"),
        ("https:///nohost", "names no host"),
    ],
)
def test_bad_target_urls_are_refused_by_name(url: str, named: str) -> None:
    with pytest.raises(Invalid, match=named):
        target_kind(url)


def test_shown_urls_hide_credentials() -> None:
    assert mask_url("https://bot:hunter22@hooks.example/x?token=abc") == (
        "https://bot:****@hooks.example/x?token=****"
    )
    shown = mask_url("slack://TokenA1234/TokenB5678/TokenC9012")
    assert "TokenA1234" not in shown
    assert shown.startswith("slack://")
