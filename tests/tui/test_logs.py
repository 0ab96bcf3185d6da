"""The logs view: every deployment's kept lines newest first, queried as ``logs search`` is
(text, /regex/, !inverse, -d, -l, --since), followed live with ``f``."""

from __future__ import annotations

from textual.pilot import Pilot

from mcp_console.app import ConsoleApp
from mcp_console.schemas.logs import LogLevel
from mcp_console.screens.logs import LogsScreen
from mcp_console.screens.modals.command_line import CommandLine
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, console, text_of, wait_until
from tests.tui.sample_logs import logging_client

SMALL = (80, 24)


async def _logs(pilot: Pilot[None]) -> LogsScreen:
    app = pilot.app
    await pilot.press("escape", "8")
    await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs")
    screen = app.screen
    assert isinstance(screen, LogsScreen)
    await wait_until(pilot, lambda: screen.searches > 0, "the first lines")
    await pilot.pause(0.1)
    return screen


async def _query(pilot: Pilot[None], screen: LogsScreen, query: str) -> None:
    searches = screen.searches
    await pilot.press("slash")
    screen.query_input.value = query
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.searches > searches, f"the search {query!r}")
    await pilot.pause(0.1)


def _texts(screen: LogsScreen) -> list[str]:
    return [str(screen.table.get_row(key)[4]) for key in screen.table.keys]


def _notices(app: ConsoleApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_every_deployments_lines_newest_first() -> None:
    app = console(logging_client())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _logs(pilot)
        assert screen.table.keys == [str(i) for i in range(10, 0, -1)]
        newest = [str(cell) for cell in screen.table.get_row("10")]
        assert newest == ["11-25 11:59:00", "weather-eu", "weather-eu-1", "INFO", "healthz ok"]
        assert text_of(pilot, "#logs-status").strip() == (
            "10 line(s), newest first · f follows new lines"
        )
        assert "2026-11-25 11:59:00 UTC  weather-eu · weather-eu-1 · stderr · INFO" in text_of(
            pilot, "#logs-detail"
        )


async def test_the_query_box_reads_text_regex_inverse_deployment_and_level() -> None:
    client = logging_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _logs(pilot)
        await _query(pilot, screen, "timeout")
        assert _texts(screen) == [
            "connect timeout: api.github.com",
            "upstream timeout after 5000ms",
        ]
        await _query(pilot, screen, "/\\d{4}ms/")
        assert _texts(screen) == [
            "tools/call forecast user=li status=error 1840ms",
            "upstream timeout after 5000ms",
        ]
        await _query(pilot, screen, "!healthz -d weather-eu")
        assert _texts(screen) == ["AuthError: 401"]
        await _query(pilot, screen, "--level error")
        assert _texts(screen) == ["connect timeout: api.github.com", "AuthError: 401"]
        await _query(pilot, screen, "tools/call forecast -d weather -l warn")
        assert _texts(screen) == ["tools/call forecast user=li status=error 1840ms"]
        await _query(pilot, screen, "--since=1h")
        assert screen.table.keys == []  # the sample lines are older than that
        assert "no line matches" in text_of(pilot, "#logs-status")


async def test_a_bad_query_is_named_and_nothing_is_searched() -> None:
    client = logging_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _logs(pilot)
        calls = client.calls.count("search_logs")
        await pilot.press("slash")
        screen.query_input.value = "timeout --level"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "✗" in text_of(pilot, "#logs-status"), "the error")
        assert text_of(pilot, "#logs-status").strip() == "✗ --level needs a value"
        await pilot.press("slash")
        screen.query_input.value = "timeout --colour red"
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "unknown option --colour" in text_of(pilot, "#logs-status"), "it"
        )
        assert client.calls.count("search_logs") == calls
        assert screen.query_input.has_class("-invalid")
        # What the backend refuses (a regex that does not compile) is said too.
        await _query(pilot, screen, "/(unclosed/")
        assert "✗ Could not search the logs" in text_of(pilot, "#logs-status")
        assert any(n.startswith("Could not search the logs") for n in _notices(app))
        await _query(pilot, screen, "-d nowhere")
        assert "no deployment named 'nowhere'" in text_of(pilot, "#logs-status")
        # A refused query leaves the last lines found on screen.
        assert len(screen.table.keys) == 10


async def test_f_follows_new_lines_at_the_top_and_f_again_stops() -> None:
    client = logging_client()
    app = console(client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _logs(pilot)
        await _query(pilot, screen, "-d github")
        await pilot.press("f")
        await wait_until(pilot, lambda: screen.following, "following")
        await wait_until(pilot, lambda: len(screen.table.keys) == 3, "the newest lines")
        assert "▶ following · f stops" in text_of(pilot, "#logs-status")
        client.logs.add("weather", "not this one: another deployment")
        client.logs.add(
            "github", "retrying api.github.com", instance="github-2", level=LogLevel.WARN
        )
        await wait_until(
            pilot, lambda: _texts(screen)[0] == "retrying api.github.com", "the new line"
        )
        assert len(screen.table.keys) == 4
        await pilot.press("f")
        await wait_until(pilot, lambda: not screen.following, "stopped")
        client.logs.add("github", "after stopping")
        await pilot.pause(0.5)
        assert "after stopping" not in _texts(screen)
        assert "f follows new lines" in text_of(pilot, "#logs-status")


async def test_colon_logs_opens_it_and_it_works_at_80x24() -> None:
    client = logging_client()
    app = console(client)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("escape", "colon")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandLine), "the prompt")
        await pilot.press(*"logs", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LogsScreen), ":logs")
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        await wait_until(pilot, lambda: screen.searches > 0, "the lines")
        assert screen.table.visible_columns[0] == "Time"
        assert "Level" in screen.table.visible_columns
        assert "Line" in screen.table.visible_columns
        await _query(pilot, screen, "timeout")
        assert len(screen.table.keys) == 2


async def test_no_section_without_log_search() -> None:
    class _OlderClient(FakeClient):
        search_logs = None  # type: ignore[assignment]

    app = console(_OlderClient())  # type: ignore[arg-type]
    async with app.run_test(size=SIZE):
        assert app.section("logs") is None
