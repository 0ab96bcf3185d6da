"""AlertConfigBase: the alerts section's rules and notification targets, read and changed."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static, TabbedContent

from mcp_console.schemas.alerts import DeliveryState, DeliveryView, RuleView, TargetView
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.modals.alert_rule_form import AlertRuleModal
from mcp_console.screens.modals.alert_target_form import AlertTargetModal
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.widgets.alert_rows import (
    condition,
    delivery_text,
    rule_rows,
    rule_summary,
    target_rows,
)
from mcp_console.widgets.live_table import LiveTable

TABS = ("alerts", "rules", "targets")
DELIVERIES_READ = 50


class AlertConfigBase(ConsoleScreen):
    """What AlertsScreen shows beside the alerts: the rules (turned on and off, added,
    removed) and the notification targets (added, removed, sent a test), one tab each.

    Rules and targets are read when their tab first opens: they are an admin's, and a
    viewer who never looks at them is not told they may not.
    """

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.rules: list[RuleView] = []
        self.targets: list[TargetView] = []
        self.deliveries: dict[str, DeliveryView] = {}  # the newest per target
        self.rules_loaded = False
        self.targets_loaded = False
        self._reported: str | None = None

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

    def _failed(self, tab: str, error: BaseException, doing: str) -> None:
        problem = describe(error)
        self._line(f"#{tab}-status", Text(f"✗ Could not {doing}: {problem}", style="bold red"))
        if problem != self._reported:
            # Once per distinct failure: a poll every few seconds must not stack them up.
            self.report(error, doing)
        self._reported = problem

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
            f"{len(self.rules)} rule(s), {on} on · {built_in} built in · e/d turn one on/off "
            "· n adds one, x removes",
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

    def action_new_rule(self) -> None:
        self.new_rule()

    @work(group="alerts-change", exit_on_error=False)
    async def new_rule(self) -> None:
        """Ask for a rule in a form that stays open until the backend takes it; list it."""
        try:
            deployments = sorted(d.address for d in await self.client.list_deployments())
        except Exception as error:  # a rule on every deployment needs no list
            self.report(error, "list the deployments a rule may watch")
            deployments = []
        added = await self.app.push_screen_wait(
            AlertRuleModal(deployments, self.client.add_alert_rule)
        )
        if added is None:
            return
        kept = [r for r in self.rules if r.name != added.name]
        self.rules = sorted([*kept, added], key=lambda r: r.name)
        self._show_rules()
        self.table("rules").select(added.name)
        self.notify(f"Rule {added.name}: {condition(added)}.", title="Rule added")

    def action_remove_rule(self) -> None:
        if (rule := self.selected_rule()) is not None:
            self.remove_rule(rule)

    @work(group="alerts-change", exit_on_error=False)
    async def remove_rule(self, rule: RuleView) -> None:
        """Remove ``rule`` after a confirmation (the backend keeps built-in ones)."""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Remove alert rule {rule.name}?",
                f"{condition(rule)}. Its alerts and their history go with it.",
                verb="Remove",
                default=False,
            )
        ):
            return
        try:
            await self.client.remove_alert_rule(rule.name)
        except Exception as error:
            self.report(error, f"remove rule {rule.name}")
            return
        self.rules = [r for r in self.rules if r.name != rule.name]
        self._show_rules()
        self.notify(f"Rule {rule.name} and its alerts are gone.", title="Rule removed")

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
        status = f"{len(self.targets)} target(s) · t sends a test · n adds one, x removes"
        if not self.targets:
            status = "No notification targets: n adds one"
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

    def action_new_target(self) -> None:
        self.new_target()

    @work(group="alerts-change", exit_on_error=False)
    async def new_target(self) -> None:
        """Ask for a target in a form that stays open until the backend takes it; list it."""
        added = await self.app.push_screen_wait(AlertTargetModal(self.client.add_alert_target))
        if added is None:
            return
        kept = [t for t in self.targets if t.name != added.name]
        self.targets = sorted([*kept, added], key=lambda t: t.name)
        self._show_targets()
        self.table("targets").select(added.name)
        signed = ", signed" if added.signed else ""
        self.notify(
            f"Target {added.name} ({added.kind.value}{signed}): t sends it a test.",
            title="Target added",
        )

    def action_remove_target(self) -> None:
        if (target := self.selected_target()) is not None:
            self.remove_target(target)

    @work(group="alerts-change", exit_on_error=False)
    async def remove_target(self, target: TargetView) -> None:
        """Remove ``target`` after a confirmation; its delivery log goes with it."""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Remove notification target {target.name}?",
                f"{target.kind.value} {target.url}. Its delivery log goes with it, and "
                "notifications still waiting for it are not sent.",
                verb="Remove",
                default=False,
            )
        ):
            return
        try:
            await self.client.remove_alert_target(target.name)
        except Exception as error:
            self.report(error, f"remove target {target.name}")
            return
        self.targets = [t for t in self.targets if t.name != target.name]
        self.deliveries.pop(target.name, None)
        self._show_targets()
        self.notify(f"Target {target.name} is gone.", title="Target removed")
