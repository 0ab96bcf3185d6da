"""DriftScreen: a deployment's tool definitions that differ from the approved ones, each with
its diff; approving them and switching the deployment between alert and block."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from mcp_console.messages import BackendEventReceived
from mcp_console.schemas.drift import DriftApproval, DriftFinding, DriftPolicy, DriftReport
from mcp_console.screens.base import ConsoleContext, ConsoleScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.widgets.drift_diff import (
    FINDING_COLUMNS,
    finding_diff,
    finding_key,
    finding_rows,
    report_head,
    waiting,
)
from mcp_console.widgets.live_table import LiveTable

# Drift found or approved elsewhere comes as a burst of events: read the report once after.
EVENT_DELAY = 0.5


class DriftScreen(ConsoleScreen):
    """Pushed from a deployment (``D``); ``esc`` goes back.

    Args:
        context: the client and clock.
        name: the deployment's address.
        report: its drift report as just read (the screen reads it again on ``r``).
    """

    DEFAULT_CSS = """
    DriftScreen #drift-head {
        height: auto;
        padding: 0 1;
    }
    DriftScreen #drift-findings {
        height: auto;
        max-height: 8;
        border-top: solid $primary-muted;
    }
    DriftScreen #drift-diff {
        height: 1fr;
        padding: 0 1;
        border-top: solid $primary-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", id="drift-approve"),
        Binding("A", "approve_all", "Approve all", id="drift-approve-all"),
        Binding("p", "policy('block')", "Block", id="drift-block"),
        Binding("p", "policy('alert')", "Alert only", id="drift-alert"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, context: ConsoleContext, name: str, report: DriftReport) -> None:
        super().__init__(context)
        self.title = f"Drift · {name}"
        self.deployment_name = name
        self.drift = report
        self.changes = 0  # completed approvals, policy changes and reloads (tests wait on it)
        self._event_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="drift-head")
        yield LiveTable(FINDING_COLUMNS, id="drift-findings")
        with VerticalScroll(id="drift-diff"):
            yield Static("", id="drift-diff-text")
        yield Footer(compact=True)

    @property
    def table(self) -> LiveTable:
        """The findings, waiting ones first."""
        return self.query_one("#drift-findings", LiveTable)

    def on_mount(self) -> None:
        self._show()
        self.table.focus()

    def _show(self) -> None:
        now = self.context.clock()
        self.query_one("#drift-head", Static).update(report_head(self.drift, now))
        self.table.show(finding_rows(self.drift.findings, now))
        self.table.display = bool(self.drift.findings)
        self._diff()
        self.refresh_bindings()

    def selected_finding(self) -> DriftFinding | None:
        """The finding under the cursor."""
        key = self.table.highlighted_key
        return next((f for f in self.drift.findings if finding_key(f) == key), None)

    def _diff(self) -> None:
        finding = self.selected_finding()
        text = finding_diff(finding, self.context.clock()) if finding else ""
        self.query_one("#drift-diff-text", Static).update(text)

    @on(DataTable.RowHighlighted, "#drift-findings")
    def _highlighted(self) -> None:
        self._diff()
        self.refresh_bindings()

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        # New findings, or another operator's approval or policy change (events name the
        # deployment by id or by name only: any drift event reads the report again).
        if event.kind.startswith("deployment.drift"):
            if self._event_timer is not None:
                self._event_timer.stop()
            self._event_timer = self.set_timer(EVENT_DELAY, self.reload)

    def _changed(self, report: DriftReport) -> None:
        self.drift = report
        self.changes += 1
        self._show()

    # --- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.reload()

    @work(exclusive=True, group="drift-load", exit_on_error=False)
    async def reload(self) -> None:
        """Read the report again."""
        try:
            report = await self.client.drift_report(self.deployment_name)
        except Exception as error:
            self.report_error(error, f"read the drift of {self.deployment_name}")
            return
        self._changed(report)

    def report_error(self, error: BaseException, doing: str) -> None:
        """Say what went wrong (a notification for what the backend refused)."""
        self.changes += 1
        self.report(error, doing)

    def action_approve(self) -> None:
        finding = self.selected_finding()
        if finding is not None and finding.approved_at is None:
            label = f"{finding.kind.value.replace('_', ' ')} {finding.name}"
            self.approve(DriftApproval(names=[finding.name]), label)

    def action_approve_all(self) -> None:
        count = len(waiting(self.drift))
        if count:
            self.approve(DriftApproval(all=True), f"all {count} waiting finding(s)")

    @work(group="drift-change", exit_on_error=False)
    async def approve(self, approval: DriftApproval, label: str) -> None:
        """Ask, then make the listed definitions of ``approval``'s findings the approved ones."""
        name = self.deployment_name
        held = "; the gateway stops holding those tools back" if self.drift.blocked_tools else ""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Approve {label} on {name}?",
                f"What the server lists now becomes the approved definition{held}. Later "
                "changes are compared with it.",
                verb="Approve",
            )
        ):
            return
        try:
            report = await self.client.approve_drift(name, approval)
        except Exception as error:
            self.report_error(error, f"approve {label} on {name}")
            return
        self._changed(report)
        self.notify(f"Approved {label} on {name}.", title="Approved")

    def action_policy(self, policy: str) -> None:
        self.set_policy(DriftPolicy(policy))

    @work(group="drift-change", exit_on_error=False)
    async def set_policy(self, policy: DriftPolicy) -> None:
        """Switch the deployment to ``policy``; blocking asks first, as clients lose tools."""
        name = self.deployment_name
        if policy is DriftPolicy.BLOCK and not await self.app.push_screen_wait(
            ConfirmModal(
                f"Block changed tools on {name}?",
                "Tools whose definitions changed or that are new are hidden from clients, "
                "and their calls refused, until an operator approves them.",
                verb="Block",
            )
        ):
            return
        try:
            report = await self.client.set_drift_policy(name, policy)
        except Exception as error:
            self.report_error(error, f"set the drift policy of {name}")
            return
        self._changed(report)
        self.notify(f"{name}'s drift policy is {report.policy.value}.", title="Policy changed")

    def action_back(self) -> None:
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "approve":
            finding = self.selected_finding()
            return finding is not None and finding.approved_at is None
        if action == "approve_all":
            return bool(waiting(self.drift))
        if action == "policy":
            return parameters[0] != self.drift.policy.value
        return True
