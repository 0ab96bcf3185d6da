"""The command line: the composition root that knows every layer."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer

# Typer (pinned) vendors its own Click: its groups take and return that Click's types.
from typer import _click as click
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from mcp_console.cli.context import load_settings, reported_errors
from mcp_console.cli.startup import pause_collection
from mcp_console.schemas.errors import Invalid

# Each command's module and the Typer app (or function) in it, in the order --help lists
# them. A module loads when its command runs or help lists it: they bring the backend, the
# database and the HTTP client with them, which the bare console must not wait for before
# its first frame.
COMMANDS: dict[str, tuple[str, str]] = {
    "connect": ("mcp_console.cli.connect", "connect"),
    "catalog": ("mcp_console.cli.catalog", "app"),
    "review": ("mcp_console.cli.reviews", "app"),
    "user": ("mcp_console.cli.users", "app"),
    "team": ("mcp_console.cli.teams", "app"),
    "key": ("mcp_console.cli.keys", "app"),
    "secret": ("mcp_console.cli.stored_secrets", "app"),
    "db": ("mcp_console.cli.db", "app"),
    "daemon": ("mcp_console.cli.daemon", "app"),
    "deploy": ("mcp_console.cli.deploy", "app"),
    "apply": ("mcp_console.cli.apply", "apply"),
    "logs": ("mcp_console.cli.logs", "app"),
    "alert": ("mcp_console.cli.alerts", "app"),
    "audit": ("mcp_console.cli.audit", "app"),
    "billing": ("mcp_console.cli.billing", "app"),
    "docs": ("mcp_console.cli.docs", "docs"),
    "config": ("mcp_console.cli.config", "app"),
    "inspect": ("mcp_console.cli.inspect", "inspect"),
    "replay": ("mcp_console.cli.replay", "replay"),
    "mock": ("mcp_console.cli.replay", "mock"),
    "record": ("mcp_console.cli.replay", "record"),
    "new": ("mcp_console.cli.new", "new"),
    "dev": ("mcp_console.cli.dev", "app"),
}


class LazyCommands(TyperGroup):
    """The top-level group: each sub-command is built from its module when first asked for."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands)


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands by name: every name of ``COMMANDS`` is there, loaded on access."""

    def __init__(self, loaded: Mapping[str, click.Command]) -> None:
        self._loaded = dict(loaded)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = _load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._loaded.keys())


app = typer.Typer(
    name="mcp-console",
    help="A marketplace and operations console for MCP servers.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    cls=LazyCommands,
)


def _load(name: str) -> click.Command:
    module, attribute = COMMANDS[name]
    loaded = importlib.import_module(module)
    target = getattr(loaded, attribute)
    # Built as ``add_typer``/``command`` would have built them, with the same settings.
    if isinstance(target, typer.Typer):
        return get_group_from_info(
            TyperInfo(target, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    return get_command_from_info(
        # A module may name its own command class (docs: the words after "--").
        CommandInfo(name=name, callback=target, cls=getattr(loaded, "COMMAND_CLASS", None)),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


@app.callback(invoke_without_command=True)
def console(
    ctx: typer.Context,
    connect: str | None = typer.Option(
        None,
        "--connect",
        metavar="URL",
        help="Run the console on the daemon at URL (e.g. through an SSH tunnel) "
        "instead of the embedded backend.",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The API key to act with. MCP_CONSOLE_API_KEY sets it too, and keeps it out "
        "of the process list.",
    ),
    inspect: str | None = typer.Option(
        None,
        "--inspect",
        metavar="URL | 'COMMAND ARGS'",
        help="Open the inspector on a server at once: a Streamable HTTP URL (a header from "
        "MCP_CONSOLE_DOCS_HEADER) or a command line that starts a stdio server, quoted as one "
        "argument. The session runs here, as you.",
    ),
) -> None:
    """With no command, start the terminal console: on the backend a daemon (or another
    console) hosts for this data dir, or else on its own, embedded."""
    with reported_errors():
        if ctx.invoked_subcommand is not None:
            if connect is not None or token is not None or inspect is not None:
                given = (
                    "connect"
                    if connect is not None
                    else "token"
                    if token is not None
                    else "inspect"
                )
                raise Invalid(
                    "--connect, --token and --inspect start the console: give them without a "
                    "command (commands act through MCP_CONSOLE_API_KEY and the local daemon; "
                    "'mcp-console inspect' inspects from the command line)",
                    field=given,
                )
            return
        server = None
        if inspect is not None:
            from mcp_console.cli.targets import console_server

            server = console_server(inspect)  # refused before the console takes the terminal
        if connect is None:
            pause_collection()  # until its first results are drawn (see cli.startup)
        # Textual loads only when the TUI runs.
        from mcp_console.cli.tui import run_console, run_remote_console

        settings = load_settings()
        if token:
            settings = settings.model_copy(update={"api_key": token})
        if connect is not None:
            asyncio.run(run_remote_console(connect, settings.api_key, server))
        else:
            asyncio.run(run_console(settings, server))


def main() -> None:
    """The ``mcp-console`` console script."""
    app()
