"""DeveloperScreen: my services, drafts included; publish, add versions, deprecate; the
inspector on my deployments; my API keys."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from mcp_console.messages import BackendEventReceived, ServiceOpenRequested
from mcp_console.schemas.catalog import (
    ServiceDetail,
    ServiceStatus,
    ServiceView,
    VersionCreate,
    VersionView,
)
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.inspector import InspectorScreen
from mcp_console.screens.keys import KeysScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.prompt import PromptModal
from mcp_console.screens.modals.publish import PublishModal
from mcp_console.screens.modals.version import VersionModal
from mcp_console.widgets.service_table import humanize_count, status_text
from mcp_console.widgets.stars import stars
from mcp_console.widgets.timefmt import ago

MINE_EVENTS = frozenset(
    {"service.registered", "service.published", "service.deprecated", "version.added"}
)


class DeveloperScreen(ConsoleScreen):
    """The services I author; every change goes through a form or a confirmation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="focus-filter"),
        Binding("i", "inspector", "Inspector", id="open-inspector"),
        Binding("k", "keys", "API keys", id="open-keys"),
        Binding("n", "publish_file", "Publish server.json", id="publish-file"),
        Binding("a", "add_version", "Add version", id="add-version"),
        Binding("p", "publish_draft", "Publish draft", id="publish-draft"),
        Binding("x", "deprecate", "Deprecate", id="deprecate"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("escape", "focus_table", "Table", show=False, id="leave-filter"),
    ]

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__(context)
        self.title = "Developer console"
        self.services: list[ServiceView] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter my services by name (/)", id="dev-filter", compact=True)
        yield Static("Loading your services…", id="dev-status")
        yield DataTable(id="dev-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="dev-empty")
        yield Footer(compact=True)

    @property
    def table(self) -> DataTable[str | Text]:
        """My services."""
        return self.query_one("#dev-table", DataTable)

    @property
    def highlighted(self) -> ServiceView | None:
        """The service under the cursor."""
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((s for s in self.services if s.name == key), None)

    def on_mount(self) -> None:
        self.table.add_column("Service", key="name")
        for label in ("Status", "Latest", "Rating", "Downloads", "Updated"):
            self.table.add_column(label, key=label.lower())
        self.query_one("#dev-empty").display = False
        self.table.focus()
        self.load()

    @work(exclusive=True, group="dev-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch my services."""
        try:
            services = await self.client.my_services()
        except Exception as error:
            self.loaded = True
            self.query_one("#dev-status", Static).update(
                Text(f"✗ Could not load your services: {describe(error)}", style="bold red")
            )
            self.report(error, "load your services")
            return
        self.services = services
        self.loaded = True
        self._fill()

    def _fill(self) -> None:
        needle = self.query_one("#dev-filter", Input).value.strip().lower()
        shown = [s for s in self.services if needle in s.name.lower()]
        table = self.table
        kept = self.highlighted.name if self.highlighted else None
        table.clear()
        now = self.context.clock()
        for service in shown:
            table.add_row(
                Text(service.name, style="bold"),
                status_text(service.status),
                service.latest_version or "—",
                Text(stars(service.rating_average, service.rating_count), style="yellow"),
                humanize_count(service.downloads_count),
                ago(service.updated_at, now),
                key=service.name,
            )
        names = [s.name for s in shown]
        if kept in names:
            table.move_cursor(row=names.index(kept))
        drafts = sum(s.status is ServiceStatus.DRAFT for s in self.services)
        self.query_one("#dev-status", Static).update(
            f"{len(self.services)} service(s) of yours, {drafts} draft(s)"
            + (f" · {len(shown)} shown" if needle else "")
        )
        empty = self.query_one("#dev-empty", Static)
        empty.display = not shown
        table.display = bool(shown)
        empty.update(
            "You have no services yet. Press [b]n[/b] to publish one from a server.json file."
            if not self.services
            else "None of your services matches the filter."
        )

    @on(Input.Changed, "#dev-filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#dev-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(ServiceOpenRequested(event.row_key.value))

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if event.kind in MINE_EVENTS or event.kind == "catalog.imported":
            self.load()

    # --- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        service = self.highlighted
        if action in ("add_version", "deprecate"):
            return service is not None
        if action == "publish_draft":
            return service is not None and service.status is ServiceStatus.DRAFT
        return True

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()

    def action_focus_filter(self) -> None:
        self.query_one("#dev-filter", Input).focus()

    def action_refresh(self) -> None:
        self.load()

    def action_inspector(self) -> None:
        """Open the inspector: list and call the tools of a deployment."""
        self.app.push_screen(InspectorScreen(self.context))

    def action_keys(self) -> None:
        """Open my API keys: list, create (the secret shown once), revoke."""
        self.app.push_screen(KeysScreen(self.context))

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_publish_file(self) -> None:
        self.publish_file()

    @work(exclusive=True, group="dev-action", exit_on_error=False)
    async def publish_file(self) -> None:
        """Publish a server.json the user points at."""

        async def submit(text: str, origin: str) -> ServiceDetail:
            return await self.client.publish_server_json(text, origin)

        published = await self.app.push_screen_wait(PublishModal(submit))
        if published is not None:
            self.notify(
                f"{published.name} {published.latest_version or ''} is published.",
                title="Published",
            )
            self.load()

    def action_add_version(self) -> None:
        if self.highlighted is not None:
            self.add_version(self.highlighted.name)

    @work(exclusive=True, group="dev-action", exit_on_error=False)
    async def add_version(self, name: str) -> None:
        """Add a version to ``name``, starting from its latest."""
        try:
            detail = await self.client.get_service(name)
        except Exception as error:
            self.report(error, f"load {name}")
            return
        base = next((v for v in detail.versions if v.is_latest), None) or (
            detail.versions[0] if detail.versions else None
        )

        async def submit(draft: VersionCreate) -> VersionView:
            return await self.client.add_version(name, draft)

        added = await self.app.push_screen_wait(VersionModal(name, submit, base))
        if added is not None:
            latest = " (now the latest)" if added.is_latest else ""
            self.notify(f"{name} {added.version} added{latest}.", title="Version added")
            self.load()

    def action_publish_draft(self) -> None:
        if self.highlighted is not None:
            self.publish_draft(self.highlighted.name)

    @work(exclusive=True, group="dev-action", exit_on_error=False)
    async def publish_draft(self, name: str) -> None:
        """Publish a draft after a confirmation."""
        if not await self.app.push_screen_wait(
            ConfirmModal(f"Publish {name}?", "It appears in everyone's market.", verb="Publish")
        ):
            return
        try:
            await self.client.publish_service(name)
        except Exception as error:
            self.report(error, f"publish {name}")
            return
        self.notify(f"{name} is published.", title="Published")
        self.load()

    def action_deprecate(self) -> None:
        if self.highlighted is not None:
            self.deprecate(self.highlighted.name)

    @work(exclusive=True, group="dev-action", exit_on_error=False)
    async def deprecate(self, name: str) -> None:
        """Deprecate ``name`` with a message for its users, after a confirmation."""
        message = await self.app.push_screen_wait(
            PromptModal(
                f"Deprecate {name}",
                "Message for its users (what to use instead, when it stops)",
                field="message",
                placeholder="Use acme/weather2 instead; removed after 2027-01",
            )
        )
        if message is None:
            return
        if not await self.app.push_screen_wait(
            ConfirmModal(f"Deprecate {name}?", f"Users will see: {message}", verb="Deprecate")
        ):
            return
        try:
            await self.client.deprecate_service(name, message)
        except Exception as error:
            self.report(error, f"deprecate {name}")
            return
        self.notify(f"{name} is deprecated.", title="Deprecated")
        self.load()
