"""LogsScreen: the kept logs of every deployment one may read, searched and followed."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from mcp_console.schemas.logs import LogLine, LogQuery
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.widgets.live_table import LiveTable
from mcp_console.widgets.log_results import (
    LOG_COLUMNS,
    QUERY_HELP,
    QUERY_HINT,
    line_detail,
    log_rows,
    parse_query,
)

# How many lines a search shows, and how many a followed view keeps (newest first).
RESULTS = 200
DRAW_DELAY = 0.1


class LogsScreen(ConsoleScreen):
    """A query box (``logs search``'s syntax) over the results, newest first; ``f`` follows:
    each line kept from then on appears at the top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "follow", "Follow", id="follow-logs"),
        Binding("f", "stop", "Stop following", id="stop-following"),
        Binding("slash", "focus_query", "Query", id="focus-query"),
        Binding("ctrl+r", "refresh", "Search again", show=False, id="refresh"),
        Binding("escape", "leave_query", "Results", show=False, id="leave-query"),
    ]

    HELP_SECTIONS: ClassVar[list[tuple[str, tuple[tuple[str, str], ...]]]] = [
        ("Log query (/)", QUERY_HELP)
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Logs"
        self.query_text = ""
        self.lines: list[LogLine] = []
        self.searches = 0  # completed searches (tests wait on them)
        self.following = False
        self._follower: Worker[None] | None = None
        self._draw_scheduled = False

    def compose(self) -> ComposeResult:
        yield Header()
        # The screen marks a refused query itself (Input would clear the mark on blur).
        yield Input(placeholder=QUERY_HINT, id="logs-query", compact=True, validate_on=[])
        yield Static("Searching…", id="logs-status")
        yield LiveTable(LOG_COLUMNS, id="logs-table")
        yield Static("", id="logs-detail")
        yield Footer(compact=True)

    @property
    def table(self) -> LiveTable:
        """The lines found, newest first."""
        return self.query_one("#logs-table", LiveTable)

    @property
    def query_input(self) -> Input:
        """Where the query is typed."""
        return self.query_one("#logs-query", Input)

    def on_mount(self) -> None:
        self.query_input.value = self.query_text
        self.table.focus()
        self.search()

    def set_query(self, text: str) -> None:
        """Search ``text`` as if typed in the query box (another screen's way here)."""
        self.query_text = text
        if not self.is_mounted:
            return  # searched once mounted
        self.query_input.value = text
        if self.following:
            self.follow()
        else:
            self.search()
        self.table.focus()

    def _status(self, text: str | Text) -> None:
        self.query_one("#logs-status", Static).update(text)

    def _query(self) -> LogQuery | None:
        """The query in the box, or ``None`` (and why, in the status line) when it is none."""
        try:
            return parse_query(self.query_text, RESULTS)
        except ValueError as error:
            self.query_input.add_class("-invalid")
            self._status(Text(f"✗ {error}", style="bold red"))
            return None

    # --- search ---------------------------------------------------------------------------

    @work(exclusive=True, group="logs-search", exit_on_error=False)
    async def search(self) -> None:
        """The newest lines the query finds."""
        query = self._query()
        if query is None:
            return
        try:
            lines = await self.client.search_logs(query)
        except Exception as error:
            self._refused(error, "search the logs")
            return
        self.query_input.remove_class("-invalid")
        self.lines = lines
        self.searches += 1
        self._show()

    def _refused(self, error: BaseException, doing: str) -> None:
        self.searches += 1
        self.query_input.add_class("-invalid")
        self._status(Text(f"✗ Could not {doing}: {describe(error)}", style="bold red"))
        self.report(error, doing)

    def _show(self) -> None:
        self.table.show(log_rows(self.lines))
        what = f"{len(self.lines)} line(s), newest first"
        if len(self.lines) >= RESULTS and not self.following:
            what = f"the newest {RESULTS} lines"
        mode = "▶ following · f stops" if self.following else "f follows new lines"
        if not self.lines:
            what = "no line matches" if self.query_text.strip() else "no lines kept yet"
        self._status(f"{what} · {mode}")
        self._detail()

    def _detail(self) -> None:
        key = self.table.highlighted_key
        line = next((x for x in self.lines if str(x.id) == key), None)
        self.query_one("#logs-detail", Static).update(line_detail(line) if line else "")

    @on(DataTable.RowHighlighted, "#logs-table")
    def _highlighted(self) -> None:
        self._detail()

    @on(Input.Submitted, "#logs-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_text = event.value
        if self.following:
            self.follow()
        else:
            self.search()
        self.table.focus()

    # --- follow ---------------------------------------------------------------------------

    def action_follow(self) -> None:
        self.follow()

    def action_stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
        self._follower = None
        self.following = False
        self._show()
        self.refresh_bindings()

    def follow(self) -> None:
        """Show the newest lines, then each new one at the top as it is kept."""
        if self._query() is None:
            return
        self.following = True
        self.refresh_bindings()
        self._follower = self._follow()

    @work(exclusive=True, group="logs-follow", exit_on_error=False)
    async def _follow(self) -> None:
        query = self._query()
        if query is None:
            return
        self.lines = []
        self._show()
        try:
            async for line in self.client.follow_logs(query):
                self.lines.insert(0, line)
                del self.lines[RESULTS:]
                self._draw_soon()
        except Exception as error:
            self.following = False
            self.refresh_bindings()
            self._refused(error, "follow the logs")
            return
        self.following = False
        self.refresh_bindings()
        self._show()

    def _draw_soon(self) -> None:
        # The first page comes a line at a time: draw the table once it has arrived, not
        # once per line.
        if not self._draw_scheduled:
            self._draw_scheduled = True
            self.set_timer(DRAW_DELAY, self._draw)

    def _draw(self) -> None:
        self._draw_scheduled = False
        self._show()

    # --- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "follow":
            return not self.following
        if action == "stop":
            return self.following
        return True

    def action_focus_query(self) -> None:
        self.query_input.focus()

    def action_leave_query(self) -> None:
        self.table.focus()

    def action_refresh(self) -> None:
        self.query_text = self.query_input.value
        if self.following:
            self.follow()
        else:
            self.search()
