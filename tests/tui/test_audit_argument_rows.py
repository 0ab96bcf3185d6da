"""A tool call's row in the audit view: its outcome, then what its policy kept of its arguments."""

from __future__ import annotations

from typing import Any

from mcp_console.schemas.audit import AuditEntry
from mcp_console.widgets.audit_rows import outcome_text
from tests.tui.sample import NOW

DIGEST = "3f2a9c4be1d07a65" + "0" * 48


def tool_call(**arguments: Any) -> AuditEntry:
    detail = {"outcome": "ok", "status": 200, "latency_ms": 12.0, **arguments}
    return AuditEntry(
        id=1,
        at=NOW,
        kind="tool.call",
        actor="maria",
        user_id=7,
        via="gateway",
        target="lookup",
        deployment="crm",
        detail=detail,
    )


def test_a_digest_shows_its_first_twelve_digits() -> None:
    shown = outcome_text(tool_call(arguments_sha256=DIGEST)).plain
    assert shown == "ok · 12 ms · args sha256 3f2a9c4be1d0"


def test_redacted_arguments_show_as_kept_masks_and_all() -> None:
    shown = outcome_text(tool_call(arguments={"q": "café", "apiKey": "••••••"})).plain
    assert shown == 'ok · 12 ms · {"q":"café","apiKey":"••••••"}'


def test_a_call_without_kept_arguments_shows_its_outcome_alone() -> None:
    assert outcome_text(tool_call()).plain == "ok · 12 ms"
    assert outcome_text(tool_call(arguments="unreadable")).plain == "ok · 12 ms · unreadable"
