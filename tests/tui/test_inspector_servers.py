"""The inspector on servers the console reaches itself: the example server as a stdio command
and over HTTP, and what a user sees when the server named cannot be reached."""

from __future__ import annotations

import shlex
import sys

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from mcp_console.app import ConsoleApp
from mcp_console.devtools.server_inspector import LocalInspector
from mcp_console.schemas.server_target import ServerTarget, command_target
from mcp_console.screens.developer import DeveloperScreen
from mcp_console.screens.inspector import InspectorScreen
from mcp_console.widgets.rpc_view import ExchangeView
from tests.deploy.helpers import EXAMPLE_COMMAND
from tests.docs.helpers import example_over_http
from tests.fakes import FakeClient
from tests.tui.helpers import SIZE, plain, text_of, wait_until
from tests.tui.sample import frozen_clock, sample_catalog

# A real server starts, or fails to, on a loaded machine: generous.
SERVER_SECONDS = 60.0
EXAMPLE_TOOLS = ["add", "echo", "counter", "whoami", "sleep"]


def _app(inspect: ServerTarget | None = None) -> ConsoleApp:
    return ConsoleApp(
        FakeClient(sample_catalog()),
        clock=frozen_clock,
        steady_cursor=True,
        inspector=LocalInspector(timeout=10.0),
        inspect=inspect,
    )


async def _open(pilot: Pilot[None], app: ConsoleApp) -> InspectorScreen:
    await pilot.press("escape", "4")
    await wait_until(pilot, lambda: isinstance(app.screen, DeveloperScreen), "the console")
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), "the inspector")
    screen = app.screen
    assert isinstance(screen, InspectorScreen)
    await wait_until(pilot, lambda: screen.loaded, "the deployments")
    return screen


def _tool_names(screen: InspectorScreen) -> list[str]:
    tools = screen.query_one("#tool-list", OptionList)
    return [str(tools.get_option_at_index(i).id) for i in range(tools.option_count)]


async def _problem(pilot: Pilot[None], screen: InspectorScreen, words: str) -> str:
    """The error the status line shows once it says ``words``, and the notification's too."""
    await wait_until(
        pilot, lambda: words in text_of(pilot, "#inspector-status"), words, SERVER_SECONDS
    )
    assert screen.query_one("#inspector-status").has_class("-error")
    assert any(words in n.message for n in pilot.app._notifications)
    return text_of(pilot, "#inspector-status")


async def test_a_stdio_server_lists_its_tools_and_answers_a_call() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("c")
        command = screen.query_one("#inspector-command", Input)
        assert screen.focused is command
        assert not screen.picker.display
        command.value = shlex.join(EXAMPLE_COMMAND)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.inspected is not None, "its tools", SERVER_SECONDS)
        assert _tool_names(screen) == EXAMPLE_TOOLS
        status = text_of(pilot, "#inspector-status")
        assert "mcp-console-example 1.0.0" in status
        assert "5 tools, 1 resource, 1 prompt" in status
        tools = screen.query_one("#tool-list")
        await wait_until(pilot, lambda: screen.focused is tools, "the cursor in the tools")
        await pilot.press("r")
        assert "example://info" in text_of(pilot, "#inspector-resources")

        # The form from add's schema; the real server adds.
        await pilot.press("t", "enter", "2", "enter", "4", "0", "ctrl+s")
        result = screen.pane.result
        await wait_until(pilot, lambda: "answered" in plain(result), "the sum", SERVER_SECONDS)
        assert "42" in plain(result)
        await pilot.press("escape", "x")
        exchange = plain(screen.query_one(ExchangeView))
        assert "tools/call add" in exchange
        assert '"arguments"' in exchange

        # Back on deployments: the picker again, with none to pick.
        await pilot.press("d")
        assert screen.picker.display
        assert not command.display


async def test_the_console_can_open_on_a_server_at_once() -> None:
    app = _app(inspect=command_target(EXAMPLE_COMMAND))  # mcp-console --inspect 'COMMAND'
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), "the inspector")
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        await wait_until(pilot, lambda: screen.inspected is not None, "its tools", SERVER_SECONDS)
        assert _tool_names(screen) == EXAMPLE_TOOLS
        command = screen.query_one("#inspector-command", Input)
        assert command.display
        assert command.value == shlex.join(EXAMPLE_COMMAND)
        tools = screen.query_one("#tool-list")
        await wait_until(pilot, lambda: screen.focused is tools, "the cursor in the tools")
        await pilot.press("escape")  # from the tools, out: the market is beneath
        assert not isinstance(app.screen, InspectorScreen)


async def test_a_server_at_a_url_is_inspected_with_a_header_never_shown() -> None:
    app = _app()
    async with example_over_http() as url, app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("u")
        assert screen.focused is screen.query_one("#inspector-url", Input)
        await pilot.press(*url, "tab", *"Authorization: Bearer s3cret-key", "enter")
        await wait_until(pilot, lambda: screen.inspected is not None, "its tools", SERVER_SECONDS)
        assert _tool_names(screen) == EXAMPLE_TOOLS
        assert "protocol 20" in text_of(pilot, "#inspector-status")

        await pilot.press("down", "enter", *"hello", "ctrl+s")  # echo
        result = screen.pane.result
        await wait_until(pilot, lambda: "answered" in plain(result), "the echo", SERVER_SECONDS)
        assert "hello" in plain(result)
        assert "s3cret" not in app.export_screenshot()


async def test_what_names_no_mcp_server_is_explained() -> None:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("c")
        command = screen.query_one("#inspector-command", Input)
        command.value = "no-such-mcp-server --stdio"
        await pilot.press("enter")
        said = await _problem(pilot, screen, "not a program found on PATH")
        assert "'no-such-mcp-server'" in said
        assert screen.inspected is None

        # Not MCP on stdout; why, on stderr: the error repeats its last words.
        script = "import sys; print('hello'); sys.exit('this is no MCP server')"
        command.value = shlex.join([sys.executable, "-c", script])
        await pilot.press("enter")
        said = await _problem(pilot, screen, "did not answer")
        assert "its stderr ends: this is no MCP server" in said
        command.value = "python 'unclosed"
        await pilot.press("enter")
        await _problem(pilot, screen, "cannot read the command line")

        await pilot.press("escape")  # out of the command, to the choice of kind
        assert isinstance(app.screen, InspectorScreen)
        await pilot.press("u")
        url = screen.query_one("#inspector-url", Input)
        url.value = "ftp://127.0.0.1/mcp"
        await pilot.press("enter")
        await _problem(pilot, screen, "is not an MCP server's URL")
        url.value = "http://127.0.0.1:9/mcp"  # discard: nothing listens
        screen.query_one("#inspector-header", Input).value = "Bearer s3cret"
        await pilot.press("enter")
        said = await _problem(pilot, screen, "a header is NAME: VALUE")
        assert "s3cret" not in said
        screen.query_one("#inspector-header", Input).value = ""
        await pilot.press("enter")
        said = await _problem(pilot, screen, "did not answer")
        assert "http://127.0.0.1:9/mcp" in said
        assert screen.inspected is None

        # The kind chosen from its list: the cursor goes where the server is typed.
        await pilot.press("escape")
        assert screen.focused is screen.query_one("#inspector-kind")
        await pilot.press("enter", "down", "enter")
        await wait_until(pilot, lambda: screen.focused is command, "the command's field")
        assert not url.display
