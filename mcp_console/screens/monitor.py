"""MonitorScreen: one deployment live or over a range — charts, instances and why one is red,
sessions, logs, tools."""

from __future__ import annotations

import asyncio
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Footer, Header, Static

from mcp_console.messages import BackendEventReceived, SectionRequested
from mcp_console.schemas.deploy import DeploymentDetail, DeploymentView, InstanceLogs
from mcp_console.schemas.errors import NotFound
from mcp_console.schemas.monitor import DeploymentMetrics, SessionState, SessionView
from mcp_console.screens.access import access_line, allows, who_may
from mcp_console.screens.base import ConsoleContext, describe
from mcp_console.screens.deployment_actions import (
    DEPLOYMENT_BINDINGS,
    EVENT_DELAY,
    is_deployment_event,
)
from mcp_console.screens.modals.pick_deployment import PickDeploymentModal
from mcp_console.screens.monitor_base import MonitorBase
from mcp_console.widgets.charts import UsageHistory
from mcp_console.widgets.deployment_rows import listing_order
from mcp_console.widgets.history_rows import LIVE
from mcp_console.widgets.log_view import FILTER_HELP
from mcp_console.widgets.monitor_head import headline
from mcp_console.widgets.monitor_panes import MonitorPanes

T = TypeVar("T")

POLL_SECONDS = 1.0
LOG_TAIL = 200


class MonitorScreen(MonitorBase):
    """Polls the watched deployment's figures every second while it is on screen.

    On a narrow terminal one pane shows at a time (``[`` and ``]`` switch); on a wide one
    all five do, and the pane holding the focus is the current one.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "pane(1)", "Next pane", id="next-pane"),
        Binding("left_square_bracket", "pane(-1)", "Prev pane", show=False, id="previous-pane"),
        Binding("d", "drain", "Drain", id="drain-session"),
        Binding("k", "kill", "Kill", id="kill-session"),
        Binding("L", "logs_of", "Its logs", id="logs-of"),
        Binding("p", "pause", "Pause", id="pause-logs"),
        Binding("p", "follow", "Follow", id="follow-logs"),
        Binding("slash", "focus_filter", "Filter", id="focus-filter"),
        Binding("o", "open", "Watch…", id="open-deployment"),
        Binding("t", "range(1)", "Range", id="next-range"),
        Binding("T", "range(-1)", "Prev range", show=False, id="previous-range"),
        Binding("b", "breakdown", "Breakdown", id="next-breakdown"),
        *DEPLOYMENT_BINDINGS,
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
    ]

    HELP_SECTIONS: ClassVar[list[tuple[str, tuple[tuple[str, str], ...]]]] = [
        ("Log filter (/)", FILTER_HELP)
    ]

    def __init__(self, context: ConsoleContext, name: str | None = None) -> None:
        super().__init__(context)
        self.title = "Monitor"
        # The watched deployment's address: ``owner/name`` when it is someone else's.
        self.deployment_name = name
        self.detail: DeploymentDetail | None = None
        self.metrics: DeploymentMetrics | None = None
        self.usage = UsageHistory()
        self.polls = 0  # completed polls of the watched deployment (tests wait on it)
        self.chosen = False  # the watched deployment is settled (or there is none)
        self.problem: str | None = None
        self._reported: str | None = None
        self._polling = False
        self._event_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="monitor-head")
        yield MonitorPanes(self.context.clock, id="monitor-live")
        yield Static("", id="monitor-empty")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self._pane is not None:
            self.panes.set_pane(self._pane)
        else:
            self.call_after_refresh(self.panes.pane_widget(self.pane).focus)
        self.set_interval(POLL_SECONDS, self._tick)
        self.load()

    # --- which deployment ---------------------------------------------------------------

    def show_deployment(self, name: str | None, pane: str | None = None) -> None:
        """Watch ``name``, an address (``None``: the first deployment), showing ``pane``."""
        if pane is not None:
            self._pane = pane
            if self.is_mounted:
                self.panes.set_pane(pane)
        if name != self.deployment_name or name is None:
            self.deployment_name = name
            self._forget()
        if self.is_mounted:
            self.load()

    def _forget(self) -> None:
        self.detail = None
        self.metrics = None
        self.sessions = []
        self.usage.clear()
        self.ranged = None
        self.polls = 0
        self.chosen = False
        self.problem = None
        self._reported = None
        if self.is_mounted:
            self.panes.reset("waiting for the first figures…")

    @work(exclusive=True, group="monitor-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the watched deployment (choosing the first one when none is), then poll."""
        name = self.deployment_name
        try:
            if name is None:
                listed = await self.client.list_deployments()
                if not listed:
                    self._nothing_to_watch()
                    return
                name = self.deployment_name = min(listed, key=listing_order).address
            detail = await self.client.get_deployment(name)
        except NotFound:
            self._gone(name or "")
            return
        except Exception as error:
            self.chosen = True
            self.problem = describe(error)
            self.query_one("#monitor-head", Static).update(
                Text(f"✗ Could not load {name or 'deployments'}: {self.problem}", style="bold red")
            )
            self.report(error, f"load {name or 'deployments'}")
            return
        if name != self.deployment_name:
            return
        self.chosen = True
        self._show_body(True)
        self._show_detail(detail)
        self.poll()
        self.load_history()

    def _nothing_to_watch(self) -> None:
        self._nothing(
            "Monitor",
            "Nothing to watch: there are no deployments yet.\n\nOpen a service in the market "
            "([b]1[/b]) and press [b]d[/b] to deploy it; the wizard brings you here once it "
            "is healthy.",
        )

    def _gone(self, name: str) -> None:
        self._nothing(
            name,
            f"{name} no longer exists. Press [b]o[/b] to watch another deployment, or "
            "[b]2[/b] for the list.",
        )

    def _nothing(self, head: str, why: str) -> None:
        self.chosen = True
        self.detail = None
        self._show_body(False)
        self.query_one("#monitor-head", Static).update(Text(head, style="bold"))
        self.query_one("#monitor-empty", Static).update(why)
        self.refresh_bindings()

    def _show_body(self, shown: bool) -> None:
        # A class, not inline display: the stylesheet decides what the width allows.
        self.set_class(not shown, "-nothing")

    def _show_detail(self, detail: DeploymentDetail) -> None:
        self.detail = detail
        self.title = f"Monitor · {detail.address}"
        self._render_head()
        self._render_instances()
        self.refresh_bindings()

    def _render_head(self) -> None:
        if self.detail is not None:
            self.query_one("#monitor-head", Static).update(
                headline(
                    self.detail,
                    self.metrics,
                    len(self.sessions) if allows(self.detail, "sessions") else None,
                    self.problem,
                    access_line(self.detail),
                )
            )

    def _render_instances(self) -> None:
        if self.detail is not None:
            usage = {u.instance: u for u in self.metrics.instances} if self.metrics else {}
            self.panes.show_instances(self.detail.instances, usage)

    # --- live figures -------------------------------------------------------------------

    def _tick(self) -> None:
        if not self.is_current or self.detail is None:
            return
        if not self._polling:
            self.poll()
        if self.history_due():
            self.load_history()

    @work(group="monitor-poll", exit_on_error=False)
    async def poll(self) -> None:
        """One round of figures, sessions and new log lines for the watched deployment."""
        name = self.deployment_name
        if name is None or self._polling:
            return
        self._polling = True
        # A caller sees the figures; sessions and logs are for its operators.
        operating = self.detail is None or allows(self.detail, "logs")
        try:
            metrics, sessions, logs = await asyncio.gather(
                self.client.deployment_metrics(name),
                self.client.list_sessions(name) if operating else _withheld(SessionView),
                self.client.deployment_logs(name, tail=LOG_TAIL)
                if operating
                else _withheld(InstanceLogs),
                return_exceptions=True,
            )
        finally:
            self._polling = False
        if name != self.deployment_name:
            return
        problems = [r for r in (metrics, sessions, logs) if isinstance(r, BaseException)]
        if any(isinstance(p, NotFound) for p in problems):
            self._gone(name)
            return
        if isinstance(metrics, DeploymentMetrics):
            self._show_metrics(metrics)
        if not operating:
            if self.polls == 0:
                self.panes.withhold(f"Only {who_may('logs')} see its sessions and logs.")
        else:
            if isinstance(sessions, list):
                self._show_sessions(sessions)
            if isinstance(logs, list):
                self.logs.add_tails(i for i in logs if isinstance(i, InstanceLogs))
        self._problem(problems[0] if problems else None)
        self.polls += 1

    def _problem(self, error: BaseException | None) -> None:
        self.problem = None if error is None else f"live figures: {describe(error)}"
        if error is not None and self.problem != self._reported:
            # Once per distinct failure: a poll every second must not stack up dialogs.
            self.report(error, "read the live figures")
        self._reported = self.problem
        self._render_head()

    def _show_metrics(self, metrics: DeploymentMetrics) -> None:
        self.metrics = metrics
        now = max([self.context.clock(), *(p.at for p in metrics.points)])
        self.usage.add(now, metrics.instances)
        if self.period == LIVE:
            self.panes.charts.show(metrics, self.usage, now)
        self._render_instances()

    def _show_sessions(self, sessions: list[SessionView]) -> None:
        self.sessions = sessions
        self.panes.show_sessions(sessions, self.detail.endpoint_url if self.detail else None)
        self.refresh_bindings()

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if not is_deployment_event(event.kind):
            return
        if self.detail is None or _about(event, self.detail):
            if self._event_timer is not None:
                self._event_timer.stop()
            self._event_timer = self.set_timer(EVENT_DELAY, self.load)

    # --- actions ------------------------------------------------------------------------

    def selected_deployment(self) -> DeploymentView | None:
        return self.detail

    def deployment_changed(self, name: str, detail: DeploymentDetail | None) -> None:
        if detail is None:
            self.show_deployment(None)
        elif name == self.deployment_name:
            self._show_detail(detail)
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("drain", "kill"):
            session = self.highlighted_session() if self.pane_visible("sessions") else None
            if action == "drain":
                return session is not None and session.state is SessionState.ACTIVE
            return session is not None
        if action == "logs_of":
            return self.logs_query() is not None
        if action == "pause":
            return self.pane_visible("logs") and not self.logs.paused
        if action == "follow":
            return self.pane_visible("logs") and self.logs.paused
        if action in ("focus_filter", "pane", "range", "breakdown"):
            return self.detail is not None
        return super().check_action(action, parameters)

    def action_pause(self) -> None:
        """Pause the log, or follow it again (one key, two names in the footer)."""
        self.logs.toggle_pause()
        self.refresh_bindings()

    action_follow = action_pause

    def action_focus_filter(self) -> None:
        if self._narrow() and self.pane != "logs":
            self.panes.set_pane("logs", focus=False)
        self.call_after_refresh(self.logs.filter_input.focus)

    def action_back(self) -> None:
        """From the log filter back to the log; otherwise up to the deployments list."""
        if self.logs.filter_input.has_focus:
            self.logs.output.focus()
            return
        self.post_message(SectionRequested("deployments"))

    def action_open(self) -> None:
        self.pick()

    @work(exclusive=True, group="monitor-pick", exit_on_error=False)
    async def pick(self) -> None:
        """Choose another deployment to watch."""
        try:
            listed = await self.client.list_deployments()
        except Exception as error:
            self.report(error, "list deployments")
            return
        if not listed:
            self.notify("There are no deployments to watch.", severity="warning")
            return
        chosen = await self.app.push_screen_wait(
            PickDeploymentModal(sorted(listed, key=listing_order), self.deployment_name)
        )
        if chosen is not None:
            self.show_deployment(chosen)

    def action_refresh(self) -> None:
        self.load()


def _about(event: BackendEventReceived, detail: DeploymentDetail) -> bool:
    """Whether ``event`` concerns ``detail``: by id where it has one (a name alone is not
    unique across owners)."""
    if "deployment_id" in event.event:
        return bool(event.event["deployment_id"] == detail.id)
    return bool(event.event.get("deployment") == detail.name)


async def _withheld(kind: type[T]) -> list[T]:
    """What the monitor does not ask for: the viewer may not see it."""
    return []
