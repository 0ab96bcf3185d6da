"""The Textual app shell: sections as modes, global keys, help, palette and backend events."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, TextArea

from mcp_console.client.protocol import ConsoleClient
from mcp_console.client.server_inspector import ServerInspector
from mcp_console.commands import ConsoleCommands, PaletteCommand
from mcp_console.messages import (
    BackendEventReceived,
    DeploymentOpenRequested,
    DeployRequested,
    FilterRequested,
    FiringAlertsCounted,
    LogsRequested,
    SectionRequested,
    ServiceOpenRequested,
)
from mcp_console.schemas.server_target import ServerTarget
from mcp_console.screens.base import ConsoleContext, describe
from mcp_console.screens.help import HelpScreen, KeyHelp
from mcp_console.screens.market import MarketScreen
from mcp_console.screens.modals.command_line import CommandLine
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.screens.modals.quit import QuitChoice, QuitModal, RunningWork
from mcp_console.widgets.alert_rows import firing_count
from mcp_console.widgets.search_box import quote

# The first frame shows the market: the other screens (charts, markdown, forms) load after
# the market's first results, on a thread (``ConsoleApp.load_screens``), or when first
# opened if that comes sooner.
LATER_SCREENS = (
    "mcp_console.screens.deployments",
    "mcp_console.screens.monitor",
    "mcp_console.screens.developer",
    "mcp_console.screens.service_detail",
    "mcp_console.screens.deploy",
    "mcp_console.screens.alerts",
    "mcp_console.screens.logs",
    "mcp_console.screens.audit",
    "mcp_console.screens.billing",
)
if TYPE_CHECKING:
    from mcp_console.screens.deployments import DeploymentsScreen

# Backend events kept for a section that is not on screen, delivered when it comes back.
MAX_MISSED_EVENTS = 50
EVENT_RETRY_SECONDS = (2.0, 5.0, 15.0, 30.0)
# Client methods a deployment wizard needs; until the client has them, `d` says so.
DEPLOY_METHODS = ("create_deployment",)

# How often the header's count of firing alerts is read (one cheap query).
ALERT_BADGE_SECONDS = 15.0
ALERT_METHODS = ("list_alerts", "acknowledge_alert", "add_silence", "list_alert_rules")

# What runs on the backend the console itself hosts (``None``: it hosts none).
RunningCheck = Callable[[], Awaitable[RunningWork | None]]


def _later(module: str, name: str) -> Callable[[ConsoleContext], Screen[Any]]:
    """A section's screen factory whose module loads when the section is first built."""

    def build(context: ConsoleContext) -> Screen[Any]:
        screen: Callable[[ConsoleContext], Screen[Any]] = getattr(
            importlib.import_module(module), name
        )
        return screen(context)

    return build


@dataclass(frozen=True)
class Section:
    """A top-level section: a mode with a number key, a name for ``:`` and the palette.

    ``needs`` names client methods the section uses; a client without them (an older
    daemon, say) does not offer the section, so its key and name stay hidden.
    """

    name: str
    key: str
    title: str
    aliases: tuple[str, ...]
    factory: Callable[[ConsoleContext], Screen[Any]]
    needs: tuple[str, ...] = ()
    shows_deployments: bool = False

    def available(self, client: ConsoleClient) -> bool:
        """Whether ``client`` offers everything this section uses."""
        return all(callable(getattr(client, method, None)) for method in self.needs)


SECTIONS: tuple[Section, ...] = (
    Section("market", "1", "Market", ("market", "m", "services", "catalog"), MarketScreen),
    Section(
        "deployments",
        "2",
        "Deployments",
        ("deployments", "deployment", "deploys", "dp"),
        _later("mcp_console.screens.deployments", "DeploymentsScreen"),
        needs=("list_deployments", "get_deployment", "deployment_history"),
    ),
    Section(
        "monitor",
        "3",
        "Monitor",
        ("monitor", "mon", "live", "watch"),
        _later("mcp_console.screens.monitor", "MonitorScreen"),
        needs=("deployment_metrics", "list_sessions", "deployment_logs", "get_deployment"),
        shows_deployments=True,
    ),
    Section(
        "dev",
        "4",
        "Dev",
        ("dev", "developer", "console", "d"),
        _later("mcp_console.screens.developer", "DeveloperScreen"),
    ),
    Section(
        "alerts",
        "5",
        "Alerts",
        ("alerts", "alert", "alarms"),
        _later("mcp_console.screens.alerts", "AlertsScreen"),
        needs=ALERT_METHODS,
    ),
    Section(
        "billing",
        "6",
        "Billing",
        ("billing", "bill", "cost", "invoices", "revenue"),
        _later("mcp_console.screens.billing", "BillingScreen"),
        needs=("billing_usage", "billing_revenue", "billing_invoices"),
    ),
    Section(
        "audit",
        "7",
        "Audit",
        ("audit", "trail"),
        _later("mcp_console.screens.audit", "AuditScreen"),
        needs=("audit_events",),
    ),
    Section(
        "logs",
        "8",
        "Logs",
        ("logs", "log", "search"),
        _later("mcp_console.screens.logs", "LogsScreen"),
        needs=("search_logs", "follow_logs"),
    ),
)


@dataclass
class _Missed:
    events: list[dict[str, Any]] = field(default_factory=list)


class ConsoleApp(App[None]):
    """mcp-console's terminal UI: it is given a ConsoleClient and never builds one.

    Args:
        client: the backend, local or remote.
        clock: what "now" is for relative times (tests freeze it).
        steady_cursor: never blink text cursors (screen readers, recordings, snapshots).
        running: for a console hosting its own backend, what runs on it; quitting then
            asks what becomes of that (``quit_choice`` holds the answer).
        inspector: what the inspector opens sessions with servers named by URL or command
            through, on this machine (``None``: it reaches deployments only).
        inspect: a server to open the inspector on at once (with ``inspector``).
    """

    TITLE = "mcp-console"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    DEFAULT_MODE = SECTIONS[0].name
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    # The footer lists these after the screen's own keys, in this order: narrow terminals
    # lose the last ones first, and help, quit and ":" matter more than the section keys.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("colon", "command_line", "Go to", key_display=":", id="command-line"),
        *(
            Binding(s.key, f"section('{s.name}')", s.title, id=f"section-{s.name}")
            for s in SECTIONS
        ),
        Binding("slash", "focus_filter", "Filter", show=False, id="focus-filter"),
        Binding("escape", "back", "Back", show=False, id="back"),
    ]

    def __init__(
        self,
        client: ConsoleClient,
        *,
        clock: Callable[[], datetime] | None = None,
        steady_cursor: bool = False,
        running: RunningCheck | None = None,
        inspector: ServerInspector | None = None,
        inspect: ServerTarget | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self._running_check = running
        self.quit_choice: QuitChoice | None = None
        self.steady_cursor = steady_cursor
        self.context = ConsoleContext(client, clock or (lambda: datetime.now(UTC)), inspector)
        self.sections = [s for s in SECTIONS if s.available(client)]
        self._bases: dict[str, Screen[Any]] = {}
        for section in self.sections:
            self.add_mode(section.name, partial(self._base_screen, section))
        self._missed: dict[str, _Missed] = {}
        self._screens_loading = False
        self._signed_in = ""
        self.firing_alerts = 0
        self._inspect = inspect

    def _base_screen(self, section: Section) -> Screen[Any]:
        screen = section.factory(self.context)
        self._bases[section.name] = screen
        return screen

    def on_mount(self) -> None:
        self.load_principal()
        self.follow_events()
        if self._inspect is not None:
            from mcp_console.screens.inspector import InspectorScreen  # a later screen

            self.push_screen(InspectorScreen(self.context, server=self._inspect))
        if self.section("alerts") is not None:
            self.count_firing()
            self.set_interval(ALERT_BADGE_SECONDS, self.count_firing)

    def on_market_screen_query_answered(self, _message: MarketScreen.QueryAnswered) -> None:
        # Once the first results are drawn, the other sections' screens load.
        if not self._screens_loading:
            self._screens_loading = True
            self.call_after_refresh(self.load_screens)

    @work(thread=True, group="app-screens", exit_on_error=False)
    def load_screens(self) -> None:
        """Import the screens the first frame did without (``LATER_SCREENS``), off the loop."""
        for module in LATER_SCREENS:
            importlib.import_module(module)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "section":
            # A section the client cannot serve has no key in the footer.
            return any(s.name == parameters[0] for s in self.sections)
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.steady_cursor and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    @work(exclusive=True, group="app-principal", exit_on_error=False)
    async def load_principal(self) -> None:
        """Show who is signed in, in the header."""
        try:
            me = await self.client.whoami()
        except Exception as error:
            self.sub_title = "not signed in"
            self.push_screen(ErrorModal("Could not reach the backend", describe(error)))
            return
        self._signed_in = f"Signed in as {me.name} ({me.role.value})"
        self._show_sub_title()

    # --- the firing-alerts badge --------------------------------------------------------

    @work(exclusive=True, group="app-alerts", exit_on_error=False)
    async def count_firing(self) -> None:
        """Read how many alerts fire, for the header (a failure leaves the badge as it was:
        the alerts section says what is wrong when one opens it)."""
        try:
            alerts = await self.client.list_alerts()
        except Exception:
            return
        self._show_firing(firing_count(alerts))

    def on_firing_alerts_counted(self, message: FiringAlertsCounted) -> None:
        self._show_firing(message.firing)

    def _show_firing(self, firing: int) -> None:
        if firing != self.firing_alerts:
            self.firing_alerts = firing
            self._show_sub_title()

    def _show_sub_title(self) -> None:
        # The header is on every screen: the badge there is seen from every section.
        badge = f"● {self.firing_alerts} alert(s) firing" if self.firing_alerts else ""
        if self._signed_in:
            self.sub_title = " · ".join(filter(None, (self._signed_in, badge)))
        elif badge:
            self.sub_title = badge

    # --- backend events -----------------------------------------------------------------

    @work(exclusive=True, group="app-events", exit_on_error=False)
    async def follow_events(self) -> None:
        """Turn backend events into messages for the screens, reconnecting if cut."""
        attempt = 0
        while True:
            try:
                async with self.client.events() as stream:
                    attempt = 0
                    async for event in stream:
                        self.deliver(event)
            except Exception as error:  # a cut stream must not end live updates for good
                if attempt == 0:
                    self.notify(
                        f"Live updates paused: {describe(error)}. Retrying.",
                        severity="warning",
                    )
            delay = EVENT_RETRY_SECONDS[min(attempt, len(EVENT_RETRY_SECONDS) - 1)]
            attempt += 1
            await asyncio.sleep(delay)

    def deliver(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to every screen of the current section; keep it for the others."""
        for screen in self.screen_stack:
            screen.post_message(BackendEventReceived(event))
        for section in self.sections:
            if section.name != self.current_mode:
                missed = self._missed.setdefault(section.name, _Missed()).events
                missed.append(event)
                del missed[:-MAX_MISSED_EVENTS]

    # --- navigation ---------------------------------------------------------------------

    def section(self, name: str) -> Section | None:
        """The available section called ``name`` (or one of its aliases)."""
        word = name.strip().lower()
        return next((s for s in self.sections if word == s.name or word in s.aliases), None)

    def action_section(self, name: str) -> None:
        """Switch to a section, handing it the events it missed."""
        section = self.section(name)
        if section is None:
            self.notify(f"There is no section called {name!r}.", severity="warning")
            return
        if section.name == self.current_mode:
            return
        self.switch_mode(section.name)
        missed = self._missed.pop(section.name, _Missed()).events
        for event in missed:
            for screen in self.screen_stack:
                screen.post_message(BackendEventReceived(event))

    def action_focus_filter(self) -> None:
        """``/`` where the screen has no filter of its own: the market's search."""
        self.action_section("market")
        self._market_root().action_focus_filter()

    def _market_root(self) -> MarketScreen:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        market = self.screen_stack[0]
        assert isinstance(market, MarketScreen)
        return market

    def on_service_open_requested(self, message: ServiceOpenRequested) -> None:
        from mcp_console.screens.service_detail import ServiceDetailScreen  # LATER_SCREENS

        top = self.screen
        if isinstance(top, ServiceDetailScreen) and top.service_name == message.name:
            return
        self.push_screen(ServiceDetailScreen(self.context, message.name))

    def on_section_requested(self, message: SectionRequested) -> None:
        self.action_section(message.name)

    def on_logs_requested(self, message: LogsRequested) -> None:
        from mcp_console.screens.logs import LogsScreen  # LATER_SCREENS

        self.action_section("logs")
        logs = self.screen_stack[0] if self.current_mode == "logs" else None
        if isinstance(logs, LogsScreen):
            logs.set_query(message.query)

    def on_filter_requested(self, message: FilterRequested) -> None:
        self.action_section("market")
        self._market_root().set_query(message.query)

    def on_deploy_requested(self, message: DeployRequested) -> None:
        missing = [m for m in DEPLOY_METHODS if not callable(getattr(self.client, m, None))]
        if missing:
            self.notify(
                f"Deploying {message.service} needs the backend client's deployment "
                f"operations ({', '.join(missing)}), which this client does not offer.",
                title="Cannot deploy",
                severity="warning",
                timeout=8,
            )
            return
        from mcp_console.screens.deploy import DeployScreen  # LATER_SCREENS

        self.push_screen(DeployScreen(self.context, message.service, message.version))

    def on_deployment_open_requested(self, message: DeploymentOpenRequested) -> None:
        """Show a deployment in the monitor; without one, in the deployments list."""
        from mcp_console.screens.deploy import DeployScreen  # LATER_SCREENS
        from mcp_console.screens.deployments import DeploymentsScreen
        from mcp_console.screens.monitor import MonitorScreen

        section = next((s for s in self.sections if s.shows_deployments), None)
        section = section or self.section("deployments")
        if section is None:
            return  # the wizard keeps showing its final state
        top = self.screen
        if isinstance(top, DeployScreen) and top.deployment_name == message.name:
            # The wizard is done: coming back to the market finds the service, not the wizard.
            self.pop_screen()
        self.action_section(section.name)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        base = self.screen_stack[0]
        if isinstance(base, MonitorScreen):
            base.show_deployment(message.name, message.pane)
        elif isinstance(base, DeploymentsScreen):
            base.show_deployment(message.name)

    # --- quitting -----------------------------------------------------------------------

    async def action_quit(self) -> None:
        """``q``, ``ctrl+q``, ``:quit`` and the palette's Quit all come here."""
        self.request_quit()

    def request_quit(self) -> None:
        """Quit, asking first what becomes of the deployments this console's backend runs."""
        if self._running_check is None:
            self.exit()
        elif not isinstance(self.screen, QuitModal):
            self.confirm_quit()

    @work(exclusive=True, group="app-quit", exit_on_error=False)
    async def confirm_quit(self) -> None:
        """Ask what becomes of the running deployments (nothing to ask: quit at once)."""
        assert self._running_check is not None
        try:
            running = await self._running_check()
        except Exception:  # a backend that cannot tell could not act on an answer either
            running = None
        if running is None or not running.deployments:
            self.exit()
            return
        choice = await self.push_screen_wait(QuitModal(running))
        if choice is not None:
            self.quit_choice = choice
            self.exit()

    # --- help and command line ----------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        local: list[KeyHelp] = []
        global_keys: list[KeyHelp] = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Our bindings all carry an id; the rest are widgets' own (copy, focus next).
            if not binding.description or binding.id is None:
                continue
            entry = (self.get_key_display(binding) or key, binding.description)
            (global_keys if active.node is self else local).append(entry)
        global_keys += [
            ("ctrl+p", "Command palette"),
            ("esc", "Back"),
            ("tab / shift+tab", "Next / previous field"),
        ]
        extra = getattr(self.screen, "HELP_SECTIONS", None)
        self.push_screen(HelpScreen(self.screen.title or "this screen", local, global_keys, extra))

    def command_words(self) -> dict[str, str]:
        """Every word ``:`` accepts, mapped to the command it runs."""
        words = {alias: s.name for s in self.sections for alias in (s.name, *s.aliases)}
        words |= {"help": "help", "h": "help", "quit": "quit", "q": "quit"}
        return words

    def action_command_line(self) -> None:
        self.push_screen(CommandLine(self.command_words()), self._run_command)

    def _run_command(self, command: str | None) -> None:
        if command is None:
            return
        if command == "quit":
            self.request_quit()
        elif command == "help":
            self.action_help()
        else:
            self.action_section(command)

    def open_service(self, name: str) -> None:
        """Open a service's detail page (the palette uses it)."""
        self.post_message(ServiceOpenRequested(name))

    def palette_commands(self, screen: Screen[Any]) -> Iterable[PaletteCommand]:
        """The palette's commands for ``screen``: sections, its own keys, known categories."""
        for section in self.sections:
            yield PaletteCommand(
                f"Go to {section.title}",
                partial(self.action_section, section.name),
                f"key {section.key} or :{section.name}",
            )
        yield PaletteCommand("Help", self.action_help, "the keys of this screen (?)")
        seen = {"help", "quit", "command_palette"}
        for active in screen.active_bindings.values():
            binding = active.binding
            action = binding.action.split("(", 1)[0]
            if not binding.description or not active.enabled or active.node is self:
                continue
            if action in seen:
                continue
            seen.add(action)
            yield PaletteCommand(
                f"{binding.description} ({screen.title or 'this screen'})",
                partial(self.run_action, binding.action, active.node),
                f"key {self.get_key_display(binding)}",
            )
        deployments = self._deployments_base()
        if deployments is not None and self.section("monitor") is not None:
            for deployment in deployments.deployments:
                yield PaletteCommand(
                    f"Monitor {deployment.address}",
                    partial(self.post_message, DeploymentOpenRequested(deployment.address)),
                    f"{deployment.service} {deployment.version} · {deployment.status.value}",
                )
                yield PaletteCommand(
                    f"Logs of {deployment.address}",
                    partial(
                        self.post_message, DeploymentOpenRequested(deployment.address, pane="logs")
                    ),
                    "the monitor's log pane",
                )
        market = self._market_base()
        if market is not None:
            for category in market.categories:
                yield PaletteCommand(
                    f"Browse category {category.name} ({category.count})",
                    partial(self.post_message, FilterRequested(f"category:{quote(category.name)}")),
                    "the market, filtered",
                )

    def _deployments_base(self) -> DeploymentsScreen | None:
        base = self._bases.get("deployments")
        if base is None:
            return None
        from mcp_console.screens.deployments import DeploymentsScreen  # LATER_SCREENS

        return base if isinstance(base, DeploymentsScreen) else None

    def _market_base(self) -> MarketScreen | None:
        base = self._bases.get("market")
        return base if isinstance(base, MarketScreen) else None
