"""One backend per data dir: commands reach the console that hosts it, a second console uses
it too, and quitting it hands its deployments to a daemon or stops them, as the user chose."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_console.backend.daemon import DaemonFiles
from tests.cli.commands import Cli
from tests.cli.terminal import Terminal
from tests.deploy.catalogs import SETTLE_TIMEOUT
from tests.live.helpers import SERVICE, example_cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """Commands on a data dir whose catalog has the example server."""
    with example_cli(tmp_path / "data") as runner:
        yield runner


def _console(cli: Cli, tmp_path: Path, name: str = "console") -> Terminal:
    return Terminal([], cli.settings, tmp_path / f"{name}-exit-status")


def _hosting_console(cli: Cli) -> dict[str, Any]:
    """The data dir's host, once the console serves it."""
    deadline = time.monotonic() + 60
    while not (status := cli.json("daemon", "status"))["answering"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["kind"] == "console", status
    return dict(status)


def _ready(cli: Cli, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (shown := cli.json("deploy", "show", name))["ready_replicas"] != 1:
        assert time.monotonic() < deadline, shown
        time.sleep(0.3)
    return dict(shown)


def _add(cli: Cli, name: str) -> Any:
    called = cli.json("deploy", "call", name, "add", "--arg", "a=2", "--arg", "b=40")
    assert called["is_error"] is False
    return called["structured"]


def test_commands_reach_the_console_and_quitting_hands_its_deployments_to_a_daemon(
    cli: Cli, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with _console(cli, tmp_path) as console:
        console.wait_for("Signed in as admin")
        host = _hosting_console(cli)

        # Deploying, and calling a tool, go to the console's own backend: no daemon starts.
        created = cli("deploy", "create", SERVICE, "--name", "calc", "--runtime", "process")
        _ready(cli, "calc")
        assert _add(cli, "calc") == {"result": 42}
        assert "daemon" not in created.stderr
        assert cli.json("daemon", "status") == {**host, "answering": True}
        assert not DaemonFiles(data_dir).log.exists()
        refused = cli("daemon", "--detach", ok=False)
        assert refused.stderr == (
            f"error: the console (pid {host['pid']}) at {host['url']} runs the backend of "
            "this data dir; quit it first (it offers to hand its deployments to a daemon)\n"
        )
        assert "no daemon is running: the console" in cli("daemon", "stop", ok=False).stderr

        console.keys("q")
        shown = console.wait_for("Quit? 1 deployment is running here")
        assert "the daemon serves it from now on (1 process instance restarts)" in shown
        console.keys("Enter")  # the highlighted choice: hand them over
        assert console.exit_status() == 0
        said = console.transcript()

    daemon = cli.json("daemon", "status")
    assert daemon["kind"] == "daemon"
    assert daemon["pid"] != host["pid"]
    assert (
        f"handed 1 deployment to the mcp-console daemon at {daemon['url']} "
        f"(pid {daemon['pid']}); stop it with 'mcp-console daemon stop'"
    ) in said
    # The daemon restarted the process instance the console took with it, and serves it.
    _ready(cli, "calc")
    assert _add(cli, "calc") == {"result": 42}


def test_a_second_console_uses_the_first_ones_backend_and_stopping_on_quit_sticks(
    cli: Cli, tmp_path: Path
) -> None:
    with _console(cli, tmp_path, "first") as first:
        first.wait_for("Signed in as admin")
        host = _hosting_console(cli)
        cli("deploy", "create", SERVICE, "--name", "calc", "--runtime", "process")
        _ready(cli, "calc")

        with _console(cli, tmp_path, "second") as second:
            shown = second.wait_for("Sharing a backend")
            assert f"The console running as pid {host['pid']}" in shown
            assert cli.json("daemon", "status")["pid"] == host["pid"]
            # Nothing runs on a backend of its own: it quits without a question.
            second.keys("q")
            assert second.exit_status() == 0
            assert "Quit?" not in second.transcript()
        assert _add(cli, "calc") == {"result": 42}

        first.keys("q")
        first.wait_for("Quit? 1 deployment is running here")
        first.keys("Down")
        first.pause()
        first.keys("Enter")
        assert first.exit_status() == 0
        said = first.transcript()

    assert "stopping 1 deployment: calc" in said
    assert "stopped 1 deployment; it stays stopped until started again" in said
    assert cli.json("daemon", "status")["running"] is False
    shown = cli.json("deploy", "show", "calc")
    assert (shown["desired_state"], shown["status"], shown["instances"]) == (
        "STOPPED",
        "STOPPED",
        [],
    )


def test_a_killed_console_keeps_neither_commands_nor_a_daemon_out(cli: Cli, tmp_path: Path) -> None:
    files = DaemonFiles(tmp_path / "data")
    with _console(cli, tmp_path) as console:
        console.wait_for("Signed in as admin")
        host = _hosting_console(cli)
        os.kill(host["pid"], signal.SIGKILL)  # no clean-up of any kind
        assert console.exit_status() == 128 + signal.SIGKILL
    assert files.pid.exists()
    assert files.state.exists()

    stopped = {"running": False, "kind": None, "pid": None, "url": None, "answering": False}
    assert cli.json("daemon", "status") == stopped
    cli("daemon", "--detach")
    daemon = cli.json("daemon", "status")
    assert (daemon["kind"], daemon["answering"]) == ("daemon", True)
    assert daemon["pid"] != host["pid"]
