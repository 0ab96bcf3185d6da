"""AuditScreen: the audit trail newest first, filtered by time, user, kind and deployment."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from mcp_console.messages import BackendEventReceived
from mcp_console.schemas.audit import AuditEntry, AuditQuery
from mcp_console.schemas.errors import ConsoleError
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.modals.audit_entry import AuditEntryModal
from mcp_console.widgets.audit_rows import (
    AUDIT_COLUMNS,
    SINCE_STEPS,
    audit_rows,
    entry_summary,
)
from mcp_console.widgets.live_table import LiveTable

# How many events one read shows; ``m`` reads as many older ones.
PAGE = 200
# A change comes as a burst of backend events: the trail is read once, this long after the last.
EVENT_DELAY = 1.0
# The filter boxes, by the AuditQuery field each one sets.
FILTERS = ("user", "kind", "deployment")
_PLACEHOLDERS = {
    "user": "user (/)",
    "kind": "kind, e.g. tool.call",
    "deployment": "deployment",
}


class AuditScreen(ConsoleScreen):
    """Every change and tool call the backend shows the viewer (an admin: everyone's; anyone
    else: their own and what happened to their deployments), newest first."""

    DEFAULT_CSS = """
    AuditScreen #audit-filters {
        height: 1;
        margin: 0 1;
    }
    AuditScreen #audit-filters Input {
        width: 1fr;
        margin-right: 1;
    }
    AuditScreen #audit-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    AuditScreen #audit-table {
        height: 1fr;
    }
    AuditScreen #audit-detail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        border-top: solid $primary-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "open_entry", "Details", id="audit-details"),
        Binding("t", "since(1)", "Since", id="audit-since"),
        Binding("T", "since(-1)", "Since (back)", show=False, id="audit-since-back"),
        Binding("slash", "focus_filter", "Filter", id="focus-filter"),
        Binding("m", "more", "Older", id="audit-older"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("escape", "leave_filter", "Table", show=False, id="leave-filter"),
    ]

    HELP_SECTIONS: ClassVar[list[tuple[str, tuple[tuple[str, str], ...]]]] = [
        (
            "Audit filters (/, enter applies them)",
            (
                ("user", "what this user did (controller: what mcp-console did by itself)"),
                ("kind", "a kind (deployment.scaled, tool.call) or a group (deployment, alert)"),
                ("deployment", "about this deployment: NAME or OWNER/NAME"),
                ("t / T", "how far back: " + ", ".join(label for label, _ in SINCE_STEPS)),
            ),
        )
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Audit"
        self.entries: list[AuditEntry] = []
        self.since_step = 0
        self.filters: dict[str, str] = dict.fromkeys(FILTERS, "")
        self.loads = 0  # completed reads (tests wait on them)
        self.complete = False  # the last read found every matching event
        self._event_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            for field in FILTERS:
                yield Input(
                    placeholder=_PLACEHOLDERS[field],
                    id=f"audit-{field}",
                    compact=True,
                    validate_on=[],
                )
        yield Static("Reading the audit trail…", id="audit-status")
        yield LiveTable(AUDIT_COLUMNS, id="audit-table")
        yield Static("", id="audit-detail")
        yield Footer(compact=True)

    @property
    def table(self) -> LiveTable:
        """The events shown, newest first."""
        return self.query_one("#audit-table", LiveTable)

    def filter_input(self, field: str) -> Input:
        """The box filtering by ``field`` (``user``, ``kind`` or ``deployment``)."""
        return self.query_one(f"#audit-{field}", Input)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    def _status(self, text: str | Text) -> None:
        self.query_one("#audit-status", Static).update(text)

    @property
    def since_label(self) -> str:
        """How far back the listing reaches, as ``t`` last set it."""
        return SINCE_STEPS[self.since_step][0]

    def audit_query(self, before_id: int | None = None) -> AuditQuery:
        """The listing the filters and the time step ask for."""
        delta = SINCE_STEPS[self.since_step][1]
        # The app's clock says what "now" is, so the step means the same as the times shown.
        since = None if delta is None else (self.context.clock() - delta).isoformat()
        chosen = {field: value.strip() or None for field, value in self.filters.items()}
        return AuditQuery(
            since=since,
            user=chosen["user"],
            kind=chosen["kind"],
            deployment=chosen["deployment"],
            before_id=before_id,
            limit=PAGE,
        )

    # --- reading --------------------------------------------------------------------------

    @work(exclusive=True, group="audit-load", exit_on_error=False)
    async def load(self, older: bool = False) -> None:
        """Read the newest matching events (``older``: the page after those shown)."""
        before = self.entries[-1].id if older and self.entries else None
        try:
            found = await self.client.audit_events(self.audit_query(before))
        except Exception as error:
            self._refused(error)
            return
        for field in FILTERS:
            self.filter_input(field).remove_class("-invalid")
        self.entries = [*self.entries, *found] if older else found
        self.complete = len(found) < PAGE
        self.loads += 1
        self._show()
        if older and found:
            self.table.select(str(found[0].id))

    def on_backend_event_received(self, _event: BackendEventReceived) -> None:
        # Something changed: read the newest events again, unless older pages are shown
        # (reading again would drop them; r does it when asked).
        if len(self.entries) > PAGE:
            return
        if self._event_timer is not None:
            self._event_timer.stop()
        self._event_timer = self.set_timer(EVENT_DELAY, self.load)

    def _refused(self, error: BaseException) -> None:
        self.loads += 1
        field = error.field if isinstance(error, ConsoleError) else None
        if field in FILTERS:
            self.filter_input(field).add_class("-invalid")
        self._status(Text(f"✗ Could not read the audit trail: {describe(error)}", style="bold red"))
        self.report(error, "read the audit trail")

    def _show(self) -> None:
        self.table.show(audit_rows(self.entries))
        count = len(self.entries)
        if not count:
            filtered = any(v.strip() for v in self.filters.values()) or self.since_step
            what = "no event matches" if filtered else "nothing recorded yet"
        else:
            more = "" if self.complete else " · m reads older ones"
            what = f"{count} event(s), newest first{more}"
        self._status(f"{what} · since: {self.since_label} (t)")
        self._detail()
        self.refresh_bindings()

    def selected_entry(self) -> AuditEntry | None:
        """The event under the cursor."""
        key = self.table.highlighted_key
        return next((e for e in self.entries if str(e.id) == key), None)

    def _detail(self) -> None:
        entry = self.selected_entry()
        self.query_one("#audit-detail", Static).update(entry_summary(entry) if entry else "")

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self) -> None:
        self._detail()

    @on(DataTable.RowSelected, "#audit-table")
    def _selected(self) -> None:
        self.action_open_entry()

    @on(Input.Submitted, "#audit-filters Input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_filters()
        self.table.focus()

    def _apply_filters(self) -> None:
        self.filters = {field: self.filter_input(field).value for field in FILTERS}
        self.load()

    # --- keys -----------------------------------------------------------------------------

    def action_open_entry(self) -> None:
        if (entry := self.selected_entry()) is not None:
            self.app.push_screen(AuditEntryModal(entry))

    def action_since(self, step: int) -> None:
        self.since_step = (self.since_step + step) % len(SINCE_STEPS)
        self.load()

    def action_more(self) -> None:
        self.load(older=True)

    def action_refresh(self) -> None:
        self._apply_filters()

    def action_focus_filter(self) -> None:
        self.filter_input("user").focus()

    def action_leave_filter(self) -> None:
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_entry":
            return self.selected_entry() is not None
        if action == "more":
            return bool(self.entries) and not self.complete
        return True
