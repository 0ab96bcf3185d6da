"""DeploymentsScreen: every deployment with its status and live figures, and the verbs on each."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from mcp_console.messages import BackendEventReceived, DeploymentOpenRequested
from mcp_console.schemas.deploy import DeploymentDetail, DeploymentStatus, DeploymentView
from mcp_console.screens.access import access_line, allows
from mcp_console.screens.base import ConsoleContext, describe
from mcp_console.screens.deployment_actions import (
    DEPLOYMENT_BINDINGS,
    EVENT_DELAY,
    DeploymentActionsScreen,
    is_deployment_event,
)
from mcp_console.widgets.deployment_rows import (
    DEPLOYMENT_COLUMNS,
    deployment_rows,
    listing_order,
)
from mcp_console.widgets.live_table import LiveTable

# The list's req/s and error columns are the gateway's last minute: refresh them now and then.
REFRESH_SECONDS = 5.0
_NEEDS_ATTENTION = (DeploymentStatus.FAILED, DeploymentStatus.DEGRADED)


class DeploymentsScreen(DeploymentActionsScreen):
    """The caller's deployments (everyone's for an admin); ``enter`` opens the monitor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "monitor", "Monitor", id="monitor"),
        *DEPLOYMENT_BINDINGS,
        Binding("l", "logs", "Logs", id="logs"),
        Binding("slash", "focus_filter", "Filter", id="focus-filter"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("escape", "focus_table", "Table", show=False, id="leave-filter"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Deployments"
        self.deployments: list[DeploymentView] = []
        self.loaded = False
        self.failed: str | None = None
        self._event_timer: Timer | None = None
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="Filter by name or service (/)", id="deployments-filter", compact=True
        )
        yield Static("Loading deployments…", id="deployments-status")
        yield LiveTable(DEPLOYMENT_COLUMNS, id="deployments-table")
        yield Static("", id="deployments-empty")
        yield Static("", id="deployments-why")
        yield Footer(compact=True)

    @property
    def table(self) -> LiveTable:
        """The deployments shown."""
        return self.query_one("#deployments-table", LiveTable)

    def on_mount(self) -> None:
        self.query_one("#deployments-empty").display = False
        self.table.focus()
        self.set_interval(REFRESH_SECONDS, self._tick)
        self.load()

    def _tick(self) -> None:
        if self.is_current and not self._loading:
            self.load()

    def selected_deployment(self) -> DeploymentView | None:
        key = self.table.highlighted_key
        return next((d for d in self.deployments if d.address == key), None)

    def deployment_changed(self, name: str, detail: DeploymentDetail | None) -> None:
        self.load()

    # --- loading ------------------------------------------------------------------------

    @work(exclusive=True, group="deployments-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the deployments."""
        self._loading = True
        try:
            deployments = await self.client.list_deployments()
        except Exception as error:
            self.loaded = True
            self.failed = describe(error)
            self.query_one("#deployments-status", Static).update(
                Text(f"✗ Could not load deployments: {self.failed}", style="bold red")
            )
            self.report(error, "load deployments")
            return
        finally:
            self._loading = False
        self.failed = None
        self.deployments = sorted(deployments, key=listing_order)
        self.loaded = True
        self._fill()

    def _fill(self) -> None:
        needle = self.query_one("#deployments-filter", Input).value.strip().lower()
        shown = [
            d
            for d in self.deployments
            if needle in d.address.lower() or needle in d.service.lower()
        ]
        self.table.show(deployment_rows(shown, self.context.clock()))
        self._status(shown, needle)
        empty = self.query_one("#deployments-empty", Static)
        empty.display = not shown
        self.table.display = bool(shown)
        if not self.deployments:
            empty.update(
                "You have no deployments yet.\n\nOpen a service in the market ([b]1[/b]) and "
                "press [b]d[/b] to deploy it; it shows here, and [b]3[/b] watches it live."
            )
        else:
            empty.update("No deployment matches the filter.")
        self._why()
        self.refresh_bindings()

    def _status(self, shown: list[DeploymentView], needle: str) -> None:
        parts = [f"{len(self.deployments)} deployment(s)"]
        for status in DeploymentStatus:
            count = sum(d.status is status for d in self.deployments)
            if count:
                parts.append(f"{count} {status.value.lower()}")
        if needle:
            parts.append(f"{len(shown)} shown")
        self.query_one("#deployments-status", Static).update(" · ".join(parts))

    def _why(self) -> None:
        """Under the table: what is wrong with the highlighted deployment, if anything."""
        chosen = self.selected_deployment()
        line = self.query_one("#deployments-why", Static)
        if chosen is None:
            line.update("")
            return
        text = Text(f"{chosen.address}: ", style="bold")
        if (reach := access_line(chosen)) is not None:
            text.append(f"{reach} · ", style="italic")
        if chosen.status_reason:
            style = "red" if chosen.status in _NEEDS_ATTENTION else ""
            text.append(chosen.status_reason, style=style)
        else:
            text.append(f"{chosen.service} {chosen.version}", style="default")
        if chosen.endpoint_url:
            text.append(f" · {chosen.endpoint_url}", style="cyan")
        line.update(text)

    @on(Input.Changed, "#deployments-filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#deployments-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    @on(DataTable.RowHighlighted, "#deployments-table")
    def _highlighted(self) -> None:
        self._why()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#deployments-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.row_key.value, str):
            self.post_message(DeploymentOpenRequested(event.row_key.value))

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if is_deployment_event(event.kind):
            # A rollout sends a burst of events: reload once after it.
            if self._event_timer is not None:
                self._event_timer.stop()
            self._event_timer = self.set_timer(EVENT_DELAY, self.load)

    def show_deployment(self, name: str) -> None:
        """Put the cursor on ``name``, an address (used when another screen points at it)."""
        self.table.select(name)

    # --- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        chosen = self.selected_deployment()
        if action == "monitor":
            return chosen is not None
        if action == "logs":
            return chosen is not None and allows(chosen, "logs")
        return super().check_action(action, parameters)

    def action_monitor(self) -> None:
        if (chosen := self.selected_deployment()) is not None:
            self.post_message(DeploymentOpenRequested(chosen.address))

    def action_logs(self) -> None:
        if (chosen := self.selected_deployment()) is not None:
            self.post_message(DeploymentOpenRequested(chosen.address, pane="logs"))

    def action_focus_filter(self) -> None:
        self.query_one("#deployments-filter", Input).focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_refresh(self) -> None:
        self.load()
