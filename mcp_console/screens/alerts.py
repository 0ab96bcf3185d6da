"""AlertsScreen: what fires and what is pending, the rules behind it, where notifications go."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from mcp_console.messages import FiringAlertsCounted
from mcp_console.schemas.alerts import AlertState, AlertView
from mcp_console.screens.alert_config import TABS, AlertConfigBase
from mcp_console.screens.base import ConsoleContext
from mcp_console.screens.modals.silence import SilenceModal
from mcp_console.widgets.alert_rows import (
    ALERT_COLUMNS,
    RULE_COLUMNS,
    TARGET_COLUMNS,
    alert_rows,
    alert_summary,
    deployment_of,
    firing_count,
)
from mcp_console.widgets.live_table import LiveTable

# Alerts change on the backend's evaluation interval; a look every few seconds keeps up.
POLL_SECONDS = 5.0


class AlertsScreen(AlertConfigBase):
    """Alerts (refreshed while on screen), rules and notification targets, one tab each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "Ack", id="acknowledge-alert"),
        Binding("s", "silence", "Silence…", id="silence-alert"),
        Binding("h", "history", "History", id="alert-history"),
        Binding("e", "enable", "Enable", id="enable-rule"),
        Binding("d", "disable", "Disable", id="disable-rule"),
        Binding("t", "test_target", "Send test", id="test-target"),
        # One key per verb on the rules and the targets tab alike (only one tab is shown).
        Binding("n", "new_rule", "Add rule…", id="add-rule"),
        Binding("n", "new_target", "Add target…", id="add-target"),
        Binding("x,delete", "remove_rule", "Remove…", id="remove-rule"),
        Binding("x,delete", "remove_target", "Remove…", id="remove-target"),
        Binding("right_square_bracket", "tab(1)", "Next tab", id="next-tab"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="previous-tab"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Alerts"
        self.alerts: list[AlertView] = []
        self.history = False
        self.loads = 0  # completed reads of the alerts (tests wait on it)
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="alerts-tabs"):
            with TabPane("Alerts", id="tab-alerts"):
                yield Static("Loading alerts…", id="alerts-status", classes="alerts-status")
                yield LiveTable(ALERT_COLUMNS, id="alerts-table")
                yield Static("", id="alerts-detail", classes="alerts-detail")
            with TabPane("Rules", id="tab-rules"):
                yield Static("Loading rules…", id="rules-status", classes="alerts-status")
                yield LiveTable(RULE_COLUMNS, id="rules-table")
                yield Static("", id="rules-detail", classes="alerts-detail")
            with TabPane("Targets", id="tab-targets"):
                yield Static("Loading targets…", id="targets-status", classes="alerts-status")
                yield LiveTable(TARGET_COLUMNS, id="targets-table")
                yield Static("", id="targets-detail", classes="alerts-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table("alerts").focus()
        self.set_interval(POLL_SECONDS, self._tick)
        self.load_alerts()

    # --- alerts ---------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.is_current and not self._loading:
            self.load_alerts()

    @work(exclusive=True, group="alerts-load", exit_on_error=False)
    async def load_alerts(self) -> None:
        """Read the alerts (resolved ones too when history is on)."""
        self._loading = True
        try:
            alerts = await self.client.list_alerts(self.history)
        except Exception as error:
            self._failed("alerts", error, "read the alerts")
            return
        finally:
            self._loading = False
        self._reported = None
        self.alerts = alerts
        self.loads += 1
        self._show_alerts()
        self.post_message(FiringAlertsCounted(firing_count(alerts)))

    def _show_alerts(self) -> None:
        table = self.table("alerts")
        table.show(alert_rows(self.alerts, self.context.clock()))
        counts = [
            f"{sum(a.state is state for a in self.alerts)} {state.value}"
            for state in AlertState
            if self.history or state is not AlertState.RESOLVED
        ]
        shown = "resolved shown (h hides them)" if self.history else "h shows resolved ones"
        self._line("#alerts-status", " · ".join([*counts, shown]))
        self._alert_detail()
        self.refresh_bindings()

    def selected_alert(self) -> AlertView | None:
        """The alert under the cursor."""
        key = self.table("alerts").highlighted_key
        return next((a for a in self.alerts if str(a.id) == key), None)

    def _alert_detail(self) -> None:
        alert = self.selected_alert()
        if alert is not None:
            self._line("#alerts-detail", alert_summary(alert, self.context.clock()))
        else:
            quiet = "Nothing fires and nothing is pending."
            self._line("#alerts-detail", Text(quiet if self.loads else "", style="dim"))

    def action_history(self) -> None:
        """Show resolved alerts too, or hide them again."""
        self.history = not self.history
        self.load_alerts()

    def action_acknowledge(self) -> None:
        if (alert := self.selected_alert()) is not None:
            self.acknowledge(alert)

    @work(group="alerts-change", exit_on_error=False)
    async def acknowledge(self, alert: AlertView) -> None:
        """Acknowledge ``alert``: it is not notified again while it fires."""
        try:
            done = await self.client.acknowledge_alert(alert.id)
        except Exception as error:
            self.report(error, f"acknowledge alert #{alert.id}")
            return
        self.alerts = [done if a.id == done.id else a for a in self.alerts]
        self._show_alerts()
        self.notify(
            f"{alert.rule} on {deployment_of(alert)} is not notified again while it fires.",
            title="Acknowledged",
        )

    def action_silence(self) -> None:
        if (alert := self.selected_alert()) is not None:
            self.silence(alert)

    @work(group="alerts-change", exit_on_error=False)
    async def silence(self, alert: AlertView) -> None:
        """Ask for how long, then mute ``alert``'s rule on its deployment."""
        matchers = {"alertname": alert.labels.get("alertname", alert.rule)}
        if "deployment" in alert.labels:
            matchers["deployment"] = alert.labels["deployment"]
        title = f"Silence {alert.rule} on {deployment_of(alert)}"
        wanted = await self.app.push_screen_wait(SilenceModal(title, matchers))
        if wanted is None:
            return
        try:
            made = await self.client.add_silence(wanted)
        except Exception as error:
            self.report(error, f"silence {alert.rule}")
            return
        self.notify(
            f"{alert.rule} on {deployment_of(alert)} is silenced until "
            f"{made.ends_at:%Y-%m-%d %H:%M} UTC (silence {made.id}).",
            title="Silenced",
        )
        self.load_alerts()

    # --- tabs and keys ----------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#alerts-tabs")
    def _tab_activated(self) -> None:
        tab = self.tab
        if tab == "rules" and not self.rules_loaded:
            self.load_rules()
        elif tab == "targets" and not self.targets_loaded:
            self.load_targets()
        self.call_after_refresh(self.table(tab).focus)
        self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table.id
        if table == "alerts-table":
            self._alert_detail()
        elif table == "rules-table":
            self._rule_detail()
        elif table == "targets-table":
            self._target_detail()
        self.refresh_bindings()

    def action_tab(self, step: int) -> None:
        self.show_tab(TABS[(TABS.index(self.tab) + step) % len(TABS)])

    def action_refresh(self) -> None:
        {"alerts": self.load_alerts, "rules": self.load_rules, "targets": self.load_targets}[
            self.tab
        ]()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("acknowledge", "silence", "history"):
            alert = self.selected_alert() if self.tab == "alerts" else None
            if action == "history":
                return self.tab == "alerts"
            if alert is None or alert.state is AlertState.RESOLVED:
                return False
            return not (alert.acknowledged_by if action == "acknowledge" else alert.silenced)
        if action in ("enable", "disable"):
            rule = self.selected_rule() if self.tab == "rules" else None
            return rule is not None and rule.enabled == (action == "disable")
        if action in ("test_target", "remove_target"):
            return self.tab == "targets" and self.selected_target() is not None
        if action == "remove_rule":
            return self.tab == "rules" and self.selected_rule() is not None
        if action in ("new_rule", "new_target"):
            return self.tab == action.removeprefix("new_") + "s"
        return True
