"""MonitorPanes: the monitor's charts, instances, sessions and log, and which pane is current."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from mcp_console.schemas.deploy import InstanceView
from mcp_console.schemas.monitor import InstanceUsage, MetricsHistory, SessionView
from mcp_console.widgets.charts import LiveCharts
from mcp_console.widgets.history_rows import LIVE, TOOL_COLUMNS, choice_text, tool_rows
from mcp_console.widgets.instances import (
    INSTANCE_COLUMNS,
    SESSION_COLUMNS,
    WhyPanel,
    instance_rows,
    is_red,
    session_rows,
)
from mcp_console.widgets.live_table import LiveTable
from mcp_console.widgets.log_view import LogView

PANES = ("charts", "instances", "sessions", "logs", "tools")
PANE_TITLES = {
    "charts": "Charts · last 60 s",
    "instances": "Instances",
    "sessions": "Sessions",
    "logs": "Logs",
    "tools": "Tools",
}
_FOCUS_TARGETS = {
    "charts": "#monitor-charts",
    "instances": "#monitor-instances",
    "sessions": "#monitor-sessions",
    "logs": "#log-lines",
    "tools": "#monitor-tools",
}


class MonitorPanes(Vertical):
    """Four panes; the stylesheet shows one at a time on a narrow screen and all on a wide one.

    The current pane is the one chosen with ``step`` or the one the focus moved into.
    """

    DEFAULT_CSS = """
    MonitorPanes {
        height: 1fr;
    }
    """

    class PaneChanged(Message):
        """Another pane became the current one."""

        def __init__(self, pane: str) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.pane = PANES[0]
        self.instances: list[InstanceView] = []
        self.choice = choice_text(LIVE, None)
        self._picked_red = False

    def compose(self) -> ComposeResult:
        yield Static("", id="monitor-panes")
        with Grid(id="monitor-body"):
            with Vertical(id="pane-charts", classes="monitor-pane"):
                yield LiveCharts(id="monitor-charts")
            with Vertical(id="pane-instances", classes="monitor-pane"):
                yield LiveTable(INSTANCE_COLUMNS, id="monitor-instances")
                yield WhyPanel(id="monitor-why")
            with Vertical(id="pane-sessions", classes="monitor-pane"):
                yield LiveTable(SESSION_COLUMNS, id="monitor-sessions")
                yield Static("", id="sessions-empty")
            # Before the log in the grid (beside instances and sessions), after it for [ and ].
            with Vertical(id="pane-tools", classes="monitor-pane"):
                yield LiveTable(TOOL_COLUMNS, id="monitor-tools")
                yield Static("", id="tools-empty")
            with Vertical(id="pane-logs", classes="monitor-pane"):
                yield LogView(id="monitor-logs")

    def on_mount(self) -> None:
        for pane in PANES:
            self.query_one(f"#pane-{pane}").border_title = PANE_TITLES[pane]
        self.set_pane(self.pane, focus=False)

    @property
    def charts(self) -> LiveCharts:
        """The charts."""
        return self.query_one(LiveCharts)

    @property
    def instances_table(self) -> LiveTable:
        """The instance table."""
        return self.query_one("#monitor-instances", LiveTable)

    @property
    def sessions_table(self) -> LiveTable:
        """The session table."""
        return self.query_one("#monitor-sessions", LiveTable)

    @property
    def logs(self) -> LogView:
        """The log pane."""
        return self.query_one(LogView)

    @property
    def tools_table(self) -> LiveTable:
        """Each tool's calls, errors and latency over a range."""
        return self.query_one("#monitor-tools", LiveTable)

    # --- which pane ---------------------------------------------------------------------

    def set_pane(self, pane: str, *, focus: bool = True) -> None:
        """Make ``pane`` current (and give it the focus)."""
        changed = pane != self.pane
        self.pane = pane
        self._strip()
        for name in PANES:
            self.query_one(f"#pane-{name}").set_class(name == pane, "-current")
        if focus:
            # The pane becomes visible on the next refresh; only then can it take the focus.
            self.call_after_refresh(self.pane_widget(pane).focus)
        if changed:
            self.post_message(self.PaneChanged(pane))

    def _strip(self) -> None:
        strip = Text()
        for name in PANES:
            title = PANE_TITLES[name].split(" ·")[0]
            strip.append(f" {title} ", style="reverse bold" if name == self.pane else "dim")
        strip.append("  [ ] pane", style="italic dim")
        strip.append(f"  t {self.choice}", style="italic")
        self.query_one("#monitor-panes", Static).update(strip)

    def step(self, delta: int) -> None:
        """The next (or previous) pane becomes current."""
        self.set_pane(PANES[(PANES.index(self.pane) + delta) % len(PANES)])

    def pane_widget(self, pane: str) -> Widget:
        """What takes the focus in ``pane``."""
        return self.query_one(_FOCUS_TARGETS[pane])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if ancestor.has_class("monitor-pane") and ancestor.id:
                pane = ancestor.id.removeprefix("pane-")
                if pane != self.pane:
                    self.set_pane(pane, focus=False)
                return

    # --- what they show -----------------------------------------------------------------

    def reset(self, text: str) -> None:
        """Forget what was shown (another deployment is coming)."""
        self.instances = []
        self._picked_red = False
        self.logs.reset()
        self.instances_table.show([])
        self.sessions_table.show([])
        self.tools_table.show([])
        self.charts.clear(text)

    def show_instances(
        self, instances: Sequence[InstanceView], usage: Mapping[str, InstanceUsage]
    ) -> None:
        """The instance table, and why the highlighted one is red (a red one first)."""
        self.instances = list(instances)
        table = self.instances_table
        table.show(instance_rows(instances, usage))
        table.display = bool(instances)
        if not self._picked_red and instances:
            # Why an instance is red is the first thing one opens the monitor to learn.
            self._picked_red = True
            red = next((i.name for i in instances if is_red(i)), None)
            if red is not None:
                table.select(red)
        self._show_why()

    def _show_why(self) -> None:
        key = self.instances_table.highlighted_key
        chosen = next((i for i in self.instances if i.name == key), None)
        self.query_one(WhyPanel).show(chosen, self.clock())

    @on(DataTable.RowHighlighted, "#monitor-instances")
    def _instance_highlighted(self) -> None:
        self._show_why()

    def show_sessions(self, sessions: Sequence[SessionView], endpoint: str | None) -> None:
        """The session table, or where clients would connect when there is none."""
        self.sessions_table.show(session_rows(sessions, self.clock()))
        self.sessions_table.display = bool(sessions)
        empty = self.query_one("#sessions-empty", Static)
        empty.display = not sessions
        empty.update(
            Text(
                f"No client sessions. Clients connect at {endpoint or 'the gateway'}.",
                style="dim",
            )
        )
        self.query_one("#pane-sessions").border_title = f"Sessions ({len(sessions)})"

    def show_choice(self, period: str, by: str | None) -> None:
        """Name the range and breakdown the charts show, in their pane's title."""
        self.choice = choice_text(period, by)
        self.query_one("#pane-charts").border_title = f"Charts · {self.choice}"
        self._strip()

    def show_tools(self, history: MetricsHistory | None, period: str) -> None:
        """The per-tool table over ``history``'s range (``None``: not read yet)."""
        tools = history.tools if history is not None else []
        self.tools_table.show(tool_rows(tools))
        self.tools_table.display = bool(tools)
        empty = self.query_one("#tools-empty", Static)
        empty.display = not tools
        if history is None:
            empty.update(Text("reading the tools' figures…", style="dim"))
        else:
            empty.update(Text(f"No tool was called in the last {period}.", style="dim"))
        self.query_one("#pane-tools").border_title = f"Tools · {period}"

    def withhold(self, why: str) -> None:
        """Sessions and logs are not the viewer's to see: say so where they would be."""
        self.sessions_table.show([])
        self.sessions_table.display = False
        empty = self.query_one("#sessions-empty", Static)
        empty.display = True
        empty.update(Text(why, style="dim"))
        self.query_one("#pane-sessions").border_title = PANE_TITLES["sessions"]
        self.logs.reset()
        self.logs.output.write(Text(why, style="dim"))
