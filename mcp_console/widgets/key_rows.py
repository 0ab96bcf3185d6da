"""Rows of the API keys table: never a secret, only the prefix that tells keys apart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from mcp_console.schemas.users import KeyState, KeyView
from mcp_console.widgets.badges import key_badge
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row
from mcp_console.widgets.timefmt import ago, day, until

KEY_COLUMNS = (
    Column("Name", "name", least=8),
    Column("Prefix", "prefix", cut=False),
    Column("State", "state", cut=False),
    Column("Created", "created", cut=False, hide=1),
    Column("Last used", "used", cut=False, hide=2),
    Column("Expires", "expires", cut=False),
    Column("Scope", "scope", least=16),
)


def scope_text(key: KeyView) -> str:
    """``every deployment`` for a key not limited to some, else the ones it reaches."""
    if key.deployments is None:
        return "every deployment"
    return ", ".join(key.deployments) or "none (its deployments are gone)"


def expiry_text(key: KeyView, now: datetime) -> str:
    """``in 30 days``, ``never``; a revoked key no longer expires."""
    if key.state is KeyState.REVOKED:
        return "—"
    return until(key.expires_at, now) if key.expires_at else "never"


def key_rows(keys: Sequence[KeyView], now: datetime) -> list[Row]:
    """One row per key, keyed by its id."""
    return [
        (
            str(key.id),
            (
                Text(key.name, style="bold" if key.state is KeyState.ACTIVE else "dim"),
                f"{key.prefix}…",
                key_badge(key.state),
                ago(key.created_at, now),
                ago(key.last_used_at, now) if key.last_used_at else "never",
                expiry_text(key, now),
                scope_text(key),
            ),
        )
        for key in keys
    ]


def key_summary(key: KeyView, now: datetime) -> Text:
    """Everything about one key on a line or two, for under the table."""
    text = Text(f"{key.name} ", style="bold")
    text.append(f"({key.prefix}…) ", style="dim")
    text.append_text(key_badge(key.state))
    text.append(f" · created {day(key.created_at)}")
    if key.revoked_at is not None:
        text.append(f" · revoked {ago(key.revoked_at, now)}", style="red")
    elif key.expires_at is not None:
        verb = "expired" if key.state is KeyState.EXPIRED else "expires"
        text.append(f" · {verb} {day(key.expires_at)} ({until(key.expires_at, now)})")
    else:
        text.append(" · never expires")
    used = ago(key.last_used_at, now) if key.last_used_at else "never"
    text.append(f" · last used {used}")
    text.append(f" · reaches {scope_text(key)}", style="cyan")
    return text
