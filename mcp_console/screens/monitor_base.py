"""MonitorBase: the monitor's panes, its range and breakdown, and its verbs on sessions."""

from __future__ import annotations

from textual import on, work
from textual.widgets import DataTable

from mcp_console.messages import LogsRequested
from mcp_console.schemas.deploy import DeploymentDetail
from mcp_console.schemas.monitor import DeploymentMetrics, MetricsHistory, SessionView
from mcp_console.screens.base import ConsoleContext, describe
from mcp_console.screens.deployment_actions import DeploymentActionsScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.widgets.charts import UsageHistory
from mcp_console.widgets.history_rows import (
    BREAKDOWNS,
    LIVE,
    LIVE_TOOLS_RANGE,
    RANGES,
    history_series,
    span_of,
    step,
)
from mcp_console.widgets.live_table import LiveTable
from mcp_console.widgets.log_view import LogView
from mcp_console.widgets.monitor_panes import MonitorPanes

# How often a history is read again, by range: its newest step fills as time goes by.
HISTORY_REFRESH_SECONDS = {LIVE: 10, "15m": 10, "1h": 30}
HISTORY_REFRESH_LONG = 60


class MonitorBase(DeploymentActionsScreen):
    """What MonitorScreen shows beside its live figures: the panes and which is current, a
    range with a breakdown (read from the metrics history), and draining or killing a
    session."""

    # Set by the monitor: the watched deployment and its live figures.
    deployment_name: str | None
    detail: DeploymentDetail | None
    metrics: DeploymentMetrics | None
    usage: UsageHistory

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.sessions: list[SessionView] = []
        self._pane: str | None = None
        # What the charts show: the live minute (``live``) or a range, split by ``by``.
        self.period: str = LIVE
        self.by: str | None = None
        self.ranged: MetricsHistory | None = None
        self.history_loads = 0  # completed reads of a history (tests wait on it)
        self._history_age = 0
        self._history_reported: str | None = None

    @property
    def panes(self) -> MonitorPanes:
        """The charts, instances, sessions and log."""
        return self.query_one(MonitorPanes)

    @property
    def pane(self) -> str:
        """The current pane."""
        return self.panes.pane if self.is_mounted else self._pane or "charts"

    @property
    def instances_table(self) -> LiveTable:
        """The instance table."""
        return self.panes.instances_table

    @property
    def sessions_table(self) -> LiveTable:
        """The session table."""
        return self.panes.sessions_table

    @property
    def logs(self) -> LogView:
        """The log pane."""
        return self.panes.logs

    # --- a range and a breakdown ----------------------------------------------------------

    @work(exclusive=True, group="monitor-history", exit_on_error=False)
    async def load_history(self) -> None:
        """Read the chosen range (for the tools' table while live: the last 15 minutes)."""
        name, chosen = self.deployment_name, (self.period, self.by)
        if name is None:
            return
        self._history_age = 0
        live = self.period == LIVE
        try:
            history = await self.client.metrics_history(
                name, LIVE_TOOLS_RANGE if live else self.period, None if live else self.by
            )
        except Exception as error:
            if name == self.deployment_name and chosen == (self.period, self.by):
                problem = describe(error)
                if problem != self._history_reported:
                    self.report(error, f"read the {self.period} history of {name}")
                self._history_reported = problem
            return
        if name != self.deployment_name or chosen != (self.period, self.by):
            return
        self._history_reported = None
        self.ranged = history
        self.history_loads += 1
        self.panes.show_tools(history, history.period.value)
        if not live:
            self.panes.charts.show_lines(
                history_series(history),
                span_of(self.period),
                f"no requests in the last {self.period}",
            )

    def history_due(self) -> bool:
        """Count a second on screen; whether the chosen history is due to be read again."""
        self._history_age += 1
        return self._history_age >= HISTORY_REFRESH_SECONDS.get(self.period, HISTORY_REFRESH_LONG)

    def _choose(self, period: str, by: str | None) -> None:
        self.period, self.by = period, by
        self.panes.show_choice(period, by)
        if self._narrow() and self.pane != "charts":
            self.panes.set_pane("charts")
        if period == LIVE:
            if self.metrics is not None:
                now = max([self.context.clock(), *(p.at for p in self.metrics.points)])
                self.panes.charts.show(self.metrics, self.usage, now)
        else:
            self.panes.charts.clear(f"reading the last {period}…")
        self.load_history()

    def action_range(self, delta: int) -> None:
        """The next (or previous) range: live, 15m, 1h, 24h, 7d, 30d."""
        period = step(RANGES, self.period, delta)
        self._choose(period or LIVE, self.by)

    def action_breakdown(self) -> None:
        """The next breakdown: total, by instance, by tool, by user (from live: over 15m)."""
        period = LIVE_TOOLS_RANGE if self.period == LIVE else self.period
        self._choose(period, step(BREAKDOWNS, self.by, 1))

    # --- panes --------------------------------------------------------------------------

    def _narrow(self) -> bool:
        return self.has_class("-narrow")

    def pane_visible(self, pane: str) -> bool:
        """Whether ``pane`` is on screen (all are on a wide terminal)."""
        return self.detail is not None and (not self._narrow() or self.pane == pane)

    def action_pane(self, step: int) -> None:
        self.panes.step(step)

    def on_monitor_panes_pane_changed(self) -> None:
        self.refresh_bindings()

    def on_resize(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#monitor-sessions")
    @on(DataTable.RowHighlighted, "#monitor-tools")
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    # --- sessions -------------------------------------------------------------------------

    def _show_sessions(self, sessions: list[SessionView]) -> None:
        """Show ``sessions`` (the monitor draws them)."""
        raise NotImplementedError

    def highlighted_session(self) -> SessionView | None:
        """The session under the cursor of the session table."""
        key = self.sessions_table.highlighted_key
        return next((s for s in self.sessions if s.id == key), None)

    def action_drain(self) -> None:
        session = self.highlighted_session()
        if session is not None and self.deployment_name is not None:
            self.drain(self.deployment_name, session)

    @work(group="monitor-session", exit_on_error=False)
    async def drain(self, name: str, session: SessionView) -> None:
        """Let ``session`` finish its requests, then end; it takes no new ones."""
        try:
            drained = await self.client.drain_session(name, session.id)
        except Exception as error:
            self.report(error, f"drain session {session.id[:12]}")
            return
        self.notify(
            f"Session {session.id[:12]} is draining: it finishes its requests, then ends.",
            title="Draining",
        )
        self._show_sessions([drained if s.id == drained.id else s for s in self.sessions])

    def action_kill(self) -> None:
        session = self.highlighted_session()
        if session is not None and self.deployment_name is not None:
            self.kill(self.deployment_name, session)

    @work(group="monitor-session", exit_on_error=False)
    async def kill(self, name: str, session: SessionView) -> None:
        """End ``session`` now, after a confirmation."""
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Kill session {session.id[:12]}?",
                f"Its {session.in_flight} request(s) in flight are cancelled; "
                f"{session.client or 'the client'} must open a new session.",
                verb="Kill",
            )
        ):
            return
        try:
            await self.client.kill_session(name, session.id)
        except Exception as error:
            self.report(error, f"kill session {session.id[:12]}")
            return
        self.notify(f"Session {session.id[:12]} is ended.", title="Killed")
        self._show_sessions([s for s in self.sessions if s.id != session.id])

    # --- a row's log lines ------------------------------------------------------------------

    def logs_query(self) -> str | None:
        """The Logs section's query for the access lines of the current pane's row: the
        highlighted session's since it began, or the highlighted tool's over the range."""
        name = self.deployment_name
        if (
            name is None
            or self.pane not in ("sessions", "tools")
            or not self.pane_visible(self.pane)
        ):
            return None
        if self.pane == "sessions":
            session = self.highlighted_session()
            if session is None:
                return None
            return f"-d {name} --since {session.created_at.isoformat()} session={session.id}"
        tool = self.panes.tools_table.highlighted_key
        if not tool:
            return None
        period = LIVE_TOOLS_RANGE if self.period == LIVE else self.period
        return f"-d {name} --since {period} tool={tool}"

    def action_logs_of(self) -> None:
        query = self.logs_query()
        if query is not None:
            self.post_message(LogsRequested(query))
