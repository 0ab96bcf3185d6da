"""``mcp-console alert target …`` and ``alert deliveries``, run as an operator runs them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mcp_console.backend.monitor.notify_signing import verify
from tests.cli.commands import Cli

SECRET = "cli-signing-secret-0001"
TOKEN = "tok-from-the-cli-42"


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def hook() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_targets_are_added_listed_tested_and_removed(
    tmp_path: Path, hook: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = hook
    cli = Cli(tmp_path / "data", "unused")
    added = cli.json("alert", "target", "add", "ops", f"{url}?token={TOKEN}", "--secret", SECRET)
    assert (added["kind"], added["signed"]) == ("webhook", True)
    listed = cli("alert", "target", "list").stdout
    assert "ops" in listed
    assert TOKEN not in listed
    assert SECRET not in listed

    assert cli("alert", "target", "test", "ops").stdout == "delivered a test notification to ops\n"
    [(headers, body)] = received
    assert verify(SECRET, headers, body)
    assert json.loads(body)["alerts"][0]["labels"]["alertname"] == "TestNotification"
    [entry] = cli.json("alert", "deliveries")
    assert (entry["target"], entry["state"], entry["attempts"]) == ("ops", "delivered", 1)

    # A target nothing answers behind: the test says so and exits 1; the log keeps the try.
    cli("alert", "target", "add", "down", "http://127.0.0.1:9/hook")
    failed = cli("alert", "target", "test", "down", ok=False)
    assert "not delivered to down" in failed.stderr
    assert [e["state"] for e in cli.json("alert", "deliveries", "--target", "down")] == ["waiting"]

    cli("alert", "target", "rm", "ops")
    assert [t["name"] for t in cli.json("alert", "target", "list")] == ["down"]


def test_bad_targets_are_refused_with_the_reason(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "unused")
    bad = cli("alert", "target", "add", "x", "gopher://nowhere", ok=False)
    assert "not a notification URL" in bad.stderr
    short = cli(
        "alert", "target", "add", "x", "http://127.0.0.1:9/h", "--secret", "short", ok=False
    )
    assert "secret" in short.stderr
    missing = cli("alert", "target", "test", "nope", ok=False)
    assert "no notification target named 'nope'" in missing.stderr
    for output in (bad, short):
        assert "short" not in output.stdout


def test_rules_silences_and_the_prometheus_export_from_the_command_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "unused")
    names = [r["name"] for r in cli.json("alert", "rule", "list")]
    assert {"CrashLoop", "InstanceDown", "HighErrorRate"} <= set(names)
    made = cli.json(
        "alert", "rule", "add", "SlowCalls", "--metric", "p95_ms", "--threshold", "500",
        "--window", "10m", "--for", "2m", "--label", "team=ops",
    )  # fmt: skip
    assert (made["window_s"], made["for_s"], made["labels"]) == (600, 120, {"team": "ops"})
    assert "disable it instead" in cli("alert", "rule", "rm", "CrashLoop", ok=False).stderr
    cli("alert", "rule", "disable", "CrashLoop")
    exported = cli("alert", "export", "--prometheus").stdout
    assert "alert: SlowCalls" in exported
    assert "alert: CrashLoop" not in exported  # disabled
    assert "say which format" in cli("alert", "export", ok=False).stderr
    bad = cli("alert", "rule", "add", "X", "--metric", "cpu", "--threshold", "1", ok=False)
    assert "unknown metric 'cpu'" in bad.stderr

    silence = cli.json("alert", "silence", "alertname=CrashLoop", "--for", "2h")
    assert silence["matchers"] == {"alertname": "CrashLoop"}
    assert [s["id"] for s in cli.json("alert", "silences")] == [silence["id"]]
    cli("alert", "unsilence", str(silence["id"]))
    assert cli.json("alert", "silences") == []
    assert "NAME=VALUE" in cli("alert", "silence", "CrashLoop", "--for", "1h", ok=False).stderr
    assert "duration" in cli("alert", "silence", "a=b", "--for", "soon", ok=False).stderr
    assert cli("alert", "list").stdout == "no alerts\n"
    assert "no alert 7" in cli("alert", "ack", "7", ok=False).stderr
