"""``inspect --record`` then ``replay``: the same server matches, a changed one is named
where it differs, ignore rules, the pytest module, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.commands import Cli
from tests.docs.helpers import TIME_COMMAND, example_over_http, free_port
from tests.replay.helpers import CHANGED, EXAMPLE, ROOT


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The command line on an empty data dir."""
    return Cli(tmp_path / "data", "replay-cli")


@pytest.fixture
def recorded(cli: Cli, tmp_path: Path) -> Path:
    """A session that called echo on the example server, recorded."""
    path = tmp_path / "echo.jsonl"
    called = cli("inspect", "--call", "echo", "text=hi", "--record", str(path), "--", *EXAMPLE)
    assert called.stdout == 'hi\nstructured: {"result": "hi"}\n'
    assert called.stderr.endswith(
        f"recorded {len(path.read_text().splitlines()) - 1} messages to {path}\n"
    )
    return path


def test_a_recording_holds_every_request_and_reply_timed(recorded: Path) -> None:
    header, *lines = [json.loads(line) for line in recorded.read_text().splitlines()]

    assert header["kind"] == "mcp-console-recording"
    assert header["server_name"] == "mcp-console-example"
    assert header["command"] == list(EXAMPLE)
    sent = [m["message"]["method"] for m in lines if m["direction"] == "sent"]
    assert sent[-2:] == ["tools/list", "tools/call"]
    replies = {m["message"]["id"] for m in lines if m["direction"] == "received"}
    assert replies == {m["message"]["id"] for m in lines if m["direction"] == "sent"}
    times = [m["elapsed_ms"] for m in lines]
    assert times == sorted(times)
    assert times[0] >= 0


def test_replay_matches_the_same_server_and_names_a_changed_result(
    cli: Cli, recorded: Path
) -> None:
    same = cli("replay", str(recorded))  # against the server it was recorded with

    changed = cli("replay", str(recorded), "--", *CHANGED, ok=False)

    assert same.stdout.endswith(f"answers as recorded in {recorded}: 2 call(s) match\n")
    assert changed.stdout.splitlines()[1:] == [
        "  #2 tools/call echo",
        '    $.content[0].text: recorded "hi", now "HI"',
        '    $.structuredContent.result: recorded "hi", now "HI"',
    ]
    assert changed.stdout.splitlines()[0].endswith(
        f"differently from {recorded}: 1 of 2 call(s) differ"
    )
    ignored = cli(
        "replay",
        str(recorded),
        "--ignore",
        "$.content[*].text",
        "--ignore",
        "$..result",
        "--",
        *CHANGED,
    )
    assert "2 call(s) match" in ignored.stdout
    as_json = json.loads(cli("replay", str(recorded), "--json", "--", *CHANGED, ok=False).stdout)
    assert [d["path"] for d in as_json["differences"]] == [
        "$.content[0].text",
        "$.structuredContent.result",
    ]


async def test_inspect_and_replay_reach_a_url_in_either_era(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "add.jsonl"
    async with example_over_http() as url:
        called = await _in_thread(
            cli, "inspect", url, "--call", "add", "a=2", "b=40", "--record", str(path)
        )
        listed = await _in_thread(cli, "inspect", url)
        replayed = await _in_thread(cli, "replay", str(path), "--against", url)

    assert called.stdout == '42\nstructured: {"result": 42}\n'
    assert listed.stdout.splitlines()[0] == f"{url}: mcp-console-example 1.0.0, protocol 2026-07-28"
    assert "tools (5):" in listed.stdout
    assert replayed.stdout.endswith("2 call(s) match\n")


def test_the_time_server_replays_as_recorded_though_its_clock_moved(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "time.jsonl"
    cli(
        "inspect",
        "--call",
        "get_current_time",
        "timezone=UTC",
        "--record",
        str(path),
        "--",
        *TIME_COMMAND,
    )
    recorded = json.loads(path.read_text().splitlines()[-1])["message"]["result"]

    replayed = cli("replay", str(path))

    assert json.loads(recorded["content"][0]["text"])["timezone"] == "UTC"
    # Its answer holds the time of day: compared as a timestamp, not by value.
    assert replayed.stdout.endswith("2 call(s) match\n")


async def _in_thread(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(cli, *args)


def test_record_to_pytest_writes_a_test_that_replays(
    cli: Cli, recorded: Path, tmp_path: Path
) -> None:
    passing = tmp_path / "test_same.py"
    failing = tmp_path / "test_changed.py"
    passing.write_text(cli("record", "--to-pytest", str(recorded)).stdout)
    failing.write_text(cli("replay", str(recorded), "--to-pytest", "--", *CHANGED).stdout)

    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            str(passing),
            str(failing),
        ],
        cwd=tmp_path,
        env={**cli.env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert ran.returncode == 1, ran.stdout
    assert "1 failed, 1 passed" in ran.stdout
    assert "test_changed.py::test_mcp_console_example_answers_as_recorded" in ran.stdout
    assert '$.structuredContent.result: recorded "hi", now "HI"' in ran.stdout


def test_bad_input_is_named(cli: Cli, recorded: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    port = free_port()

    def error(*args: str) -> str:
        # The last line: a stdio server says what it serves on its stderr first.
        return cli(*args, ok=False).stderr.splitlines(keepends=True)[-1]

    assert error("replay", str(notes), "--", *EXAMPLE) == (
        f"error: {notes} line 1 is not JSON (Expecting value): not a recording (recording)\n"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text(
        '{"kind": "mcp-console-recording", "format": 1, "target": "calc", '
        '"started_at": "2026-12-08T00:00:00Z"}\n'
    )
    assert error("replay", str(empty), "--", *EXAMPLE) == (
        "error: the recording of calc holds no request to replay (only the session set-up) "
        "(recording)\n"
    )
    assert error("replay", str(tmp_path / "none.jsonl")) == (
        f"error: no recording at {tmp_path / 'none.jsonl'}: no such file (recording)\n"
    )
    assert error("replay", str(recorded), "--", "/no/such/server") == (
        "error: '/no/such/server' is not a program found on PATH (command)\n"
    )
    assert error("replay", str(recorded), "--against", f"http://127.0.0.1:{port}/mcp").startswith(
        f"error: http://127.0.0.1:{port}/mcp did not answer as an MCP server: "
    )
    assert error("replay", str(recorded), "--ignore", "tools.name") == (
        "error: 'tools.name' is not a JSONPath: it starts with $ (e.g. $..timestamp) (ignore)\n"
    )
    assert error("inspect", "--call", "echo", "txt=hi", "--", *EXAMPLE) == (
        "error: argument 'text' of echo: 'text' is a required property (text)\n"
    )
    assert error("inspect", "--call", "nope", "--", *EXAMPLE) == (
        "error: there is no tool 'nope' (tools: add, counter, echo, sleep, whoami) (tool)\n"
    )
    assert error("inspect", "a=1", "--", *EXAMPLE) == (
        "error: 'a=1': KEY=VALUE arguments go with --call TOOL (arguments)\n"
    )
