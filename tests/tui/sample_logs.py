"""Sample kept log lines across deployments for the logs view's tests and snapshots."""

from __future__ import annotations

from datetime import timedelta

from mcp_console.schemas.logs import LogLevel, LogLine, LogStream
from tests.fakes import FakeClient
from tests.tui.sample import NOW
from tests.tui.sample_alerts import alerting_client

# (seconds before the frozen clock, deployment, instance, stream, level, text), oldest first.
LINES = (
    (600, "weather", "weather-1", LogStream.STDERR, LogLevel.INFO, "listening on stdio"),
    (540, "github", "github-1", LogStream.STDERR, LogLevel.DEBUG, "cache warm: 120 entries"),
    (
        480,
        "weather",
        "",
        LogStream.ACCESS,
        LogLevel.INFO,
        "tools/call forecast user=maria status=200 41ms",
    ),
    (420, "weather-eu", "weather-eu-2", LogStream.STDERR, LogLevel.ERROR, "AuthError: 401"),
    (360, "github", "github-1", LogStream.STDERR, LogLevel.WARN, "upstream timeout after 5000ms"),
    (
        300,
        "weather",
        "weather-2",
        LogStream.STDERR,
        LogLevel.WARN,
        "upstream slow: api.openweathermap.org took 870 ms",
    ),
    (240, "weather-eu", "weather-eu-1", LogStream.STDERR, LogLevel.INFO, "healthz ok"),
    (
        180,
        "github",
        "github-1",
        LogStream.STDERR,
        LogLevel.ERROR,
        "connect timeout: api.github.com",
    ),
    (
        120,
        "weather",
        "",
        LogStream.ACCESS,
        LogLevel.WARN,
        "tools/call forecast user=li status=error 1840ms",
    ),
    (60, "weather-eu", "weather-eu-1", LogStream.STDERR, LogLevel.INFO, "healthz ok"),
)


def logging_client() -> FakeClient:
    """The sample deployments and alerts, with ten kept log lines over the last ten minutes."""
    client = alerting_client()
    for index, (ago, deployment, instance, stream, level, text) in enumerate(LINES, start=1):
        client.logs.lines.append(
            LogLine(
                id=index,
                at=NOW - timedelta(seconds=ago),
                deployment_id=0,
                deployment=deployment,
                instance=instance,
                stream=stream,
                level=level,
                text=text,
            )
        )
    return client
