"""Monitoring settings: durations as people write them, tiers that make sense, clear refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from mcp_console.settings import Settings


def test_defaults_keep_a_day_a_week_and_a_quarter() -> None:
    monitor = Settings().monitor
    assert (monitor.keep_10s, monitor.keep_1m, monitor.keep_1h) == (
        timedelta(days=1),
        timedelta(days=7),
        timedelta(days=90),
    )
    assert monitor.metrics_auth == "key"


def test_durations_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_CONSOLE_MONITOR__KEEP_10S", "2h")
    monkeypatch.setenv("MCP_CONSOLE_MONITOR__LOG_RETENTION", "3600")
    monitor = Settings().monitor
    assert monitor.keep_10s == timedelta(hours=2)
    assert monitor.log_retention == timedelta(hours=1)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("KEEP_10S", "1x", "not a duration such as 30d"),
        ("KEEP_10S", "60", "at least 15 minutes"),
        ("KEEP_1M", "1h", "a coarser tier keeps longer"),
        ("METRICS_AUTH", "maybe", "metrics_auth"),
    ],
)
def test_bad_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(f"MCP_CONSOLE_MONITOR__{variable}", value)
    with pytest.raises(ValidationError, match=named):
        Settings()
