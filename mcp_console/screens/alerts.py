"""AlertsScreen: what fires and what is pending, the rules behind it, where notifications go."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from mcp_console.messages import FiringAlertsCounted
from mcp_console.schemas.alerts import (
    AlertState,
    AlertView,
    DeliveryState,
    DeliveryView,
    RuleView,
    TargetView,
)
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.modals.silence import SilenceModal
from mcp_console.widgets.alert_rows import (
    ALERT_COLUMNS,
    RULE_COLUMNS,
    TARGET_COLUMNS,
    alert_rows,
    alert_summary,
    delivery_text,
    deployment_of,
    firing_count,
    rule_rows,
    rule_summary,
    target_rows,
)
from mcp_console.widgets.live_table import LiveTable

# Alerts change on the backend's evaluation interval; a look every few seconds keeps up.
POLL_SECONDS = 5.0
TABS = ("alerts", "rules", "targets")
DELIVERIES_READ = 50


class AlertsScreen(ConsoleScreen):
    """Alerts (refreshed while on screen), rules and notification targets, one tab each.

    Rules and targets are read when their tab first opens: they are an admin's, and a
    viewer who never looks at them is not told they may not.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "Ack", id="acknowledge-alert"),
        Binding("s", "silence", "Silence…", id="silence-alert"),
        Binding("h", "history", "History", id="alert-history"),
        Binding("e", "enable", "Enable", id="enable-rule"),
        Binding("d", "disable", "Disable", id="disable-rule"),
        Binding("t", "test_target", "Send test", id="test-target"),
        Binding("right_square_bracket", "tab(1)", "Next tab", id="next-tab"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="previous-tab"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Alerts"
        self.alerts: list[AlertView] = []
        self.rules: list[RuleView] = []
        self.targets: list[TargetView] = []
        self.deliveries: dict[str, DeliveryView] = {}  # the newest per target
        self.history = False
        self.loads = 0  # completed reads of the alerts (tests wait on it)
        self.rules_loaded = False
        self.targets_loaded = False
        self._loading = False
        self._reported: str | None = None

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

    def table(self, tab: str) -> LiveTable:
        """The table of ``tab`` (``alerts``, ``rules`` or ``targets``)."""
        return self.query_one(f"#{tab}-table", LiveTable)

    @property
    def tab(self) -> str:
        """The tab on screen."""
        return self.query_one(TabbedContent).active.removeprefix("tab-") or TABS[0]

    def show_tab(self, tab: str) -> None:
        """Bring ``tab`` forward, its table focused."""
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def _line(self, selector: str, text: str | Text) -> None:
        self.query_one(selector, Static).update(text)

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

    def _failed(self, tab: str, error: BaseException, doing: str) -> None:
        problem = describe(error)
        self._line(f"#{tab}-status", Text(f"✗ Could not {doing}: {problem}", style="bold red"))
        if problem != self._reported:
            # Once per distinct failure: a poll every few seconds must not stack them up.
            self.report(error, doing)
        self._reported = problem

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

    # --- rules ----------------------------------------------------------------------------

    @work(exclusive=True, group="alerts-rules", exit_on_error=False)
    async def load_rules(self) -> None:
        """Read every rule, built-in ones included."""
        try:
            rules = await self.client.list_alert_rules()
        except Exception as error:
            self.rules_loaded = True
            self._failed("rules", error, "read the alert rules")
            return
        self.rules = rules
        self.rules_loaded = True
        self._show_rules()

    def _show_rules(self) -> None:
        self.table("rules").show(rule_rows(self.rules))
        on = sum(r.enabled for r in self.rules)
        built_in = sum(r.builtin for r in self.rules)
        self._line(
            "#rules-status",
            f"{len(self.rules)} rule(s), {on} on · {built_in} built in · e/d turn one on/off",
        )
        self._rule_detail()
        self.refresh_bindings()

    def selected_rule(self) -> RuleView | None:
        """The rule under the cursor."""
        key = self.table("rules").highlighted_key
        return next((r for r in self.rules if r.name == key), None)

    def _rule_detail(self) -> None:
        rule = self.selected_rule()
        self._line("#rules-detail", rule_summary(rule) if rule else "")

    def action_enable(self) -> None:
        if (rule := self.selected_rule()) is not None:
            self.switch_rule(rule, True)

    def action_disable(self) -> None:
        if (rule := self.selected_rule()) is not None:
            self.switch_rule(rule, False)

    @work(group="alerts-change", exit_on_error=False)
    async def switch_rule(self, rule: RuleView, enabled: bool) -> None:
        """Turn ``rule`` on or off."""
        verb = "turn on" if enabled else "turn off"
        try:
            changed = await self.client.set_alert_rule_enabled(rule.name, enabled)
        except Exception as error:
            self.report(error, f"{verb} rule {rule.name}")
            return
        self.rules = [changed if r.name == changed.name else r for r in self.rules]
        self._show_rules()
        self.notify(f"Rule {rule.name} is {'on' if enabled else 'off'}.", title="Rule changed")

    # --- notification targets ---------------------------------------------------------------

    @work(exclusive=True, group="alerts-targets", exit_on_error=False)
    async def load_targets(self) -> None:
        """Read the targets and how the last notification to each went."""
        try:
            targets = await self.client.list_alert_targets()
            log = await self.client.alert_deliveries(None, DELIVERIES_READ)
        except Exception as error:
            self.targets_loaded = True
            self._failed("targets", error, "read the notification targets")
            return
        self.targets = targets
        self.deliveries = {}
        for delivery in log:  # newest first: the first seen per target is its last
            self.deliveries.setdefault(delivery.target, delivery)
        self.targets_loaded = True
        self._show_targets()

    def _show_targets(self) -> None:
        self.table("targets").show(target_rows(self.targets))
        status = f"{len(self.targets)} target(s) · t sends a test notification"
        if not self.targets:
            status = "No notification targets: add one with mcp-console alert target add"
        self._line("#targets-status", status)
        self._target_detail()
        self.refresh_bindings()

    def selected_target(self) -> TargetView | None:
        """The target under the cursor."""
        key = self.table("targets").highlighted_key
        return next((t for t in self.targets if t.name == key), None)

    def _target_detail(self) -> None:
        target = self.selected_target()
        if target is None:
            self._line("#targets-detail", "")
            return
        delivery = self.deliveries.get(target.name)
        if delivery is None:
            self._line("#targets-detail", Text("Nothing sent to it yet.", style="dim"))
        else:
            self._line("#targets-detail", delivery_text(delivery, self.context.clock()))

    def action_test_target(self) -> None:
        if (target := self.selected_target()) is not None:
            self.test_target(target)

    @work(group="alerts-change", exit_on_error=False)
    async def test_target(self, target: TargetView) -> None:
        """Send ``target`` a test notification now and show how it went."""
        self._line("#targets-detail", Text(f"Sending a test to {target.name}…", style="dim"))
        try:
            delivery = await self.client.test_alert_target(target.name)
        except Exception as error:
            self._target_detail()
            self.report(error, f"test target {target.name}")
            return
        self.deliveries[target.name] = delivery
        self._target_detail()
        delivered = delivery.state is DeliveryState.DELIVERED
        self.notify(
            delivery_text(delivery, self.context.clock()).plain,
            title="Test delivered" if delivered else "Test not delivered",
            severity="information" if delivered else "warning",
            timeout=8,
        )

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
        if action == "test_target":
            return self.tab == "targets" and self.selected_target() is not None
        return True
