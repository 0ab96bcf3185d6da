"""MarketScreen: search the catalog as you type, browse by category and tag, open a service."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static

from mcp_console.messages import BackendEventReceived, ServiceOpenRequested
from mcp_console.schemas.catalog import CategoryCount, ImportReport, SearchPage
from mcp_console.schemas.errors import ConsoleError, Invalid
from mcp_console.screens.base import ConsoleContext, ConsoleScreen
from mcp_console.screens.modals.confirm import ConfirmModal
from mcp_console.screens.modals.error import ErrorModal
from mcp_console.starter import starter_documents
from mcp_console.widgets.facet_list import FacetList
from mcp_console.widgets.search_box import SearchBox, quote
from mcp_console.widgets.service_table import CursorAt, ServiceTable

SORT_CYCLE = ("downloads", "rating", "new", "name", "relevance")
# Backend events after which what the market shows may be stale.
CATALOG_EVENTS = frozenset(
    {
        "service.registered",
        "service.published",
        "service.deprecated",
        "version.added",
        "review.added",
        "catalog.imported",
    }
)
REFRESH_DELAY = 0.5
MIN_PAGE_SIZE = 5
MAX_PAGE_SIZE = 200
_SORT_TOKEN = re.compile(r"(?i)(?:^|\s)sort:\S*")
_CATEGORY_TOKEN = re.compile(r'(?i)(?:^|\s)category:(?:"[^"]*"?|\S*)')


@dataclass(frozen=True)
class SearchRequest:
    """What the table should show: a query, a page of it and where the cursor goes."""

    query: str
    page: int
    page_size: int
    cursor: CursorAt = "top"


def with_sort(query: str, current: str) -> str:
    """``query`` with its ``sort:`` filter moved to the next key after ``current``
    (relevance only where there are words to be relevant to)."""
    base = _SORT_TOKEN.sub("", query).strip()
    cycle = SORT_CYCLE if _has_words(base) else SORT_CYCLE[:-1]
    index = cycle.index(current) if current in cycle else -1
    return f"{base} sort:{cycle[(index + 1) % len(cycle)]}".strip()


def _has_words(query: str) -> bool:
    return any(":" not in word for word in query.split())


def with_facet(query: str, kind: str, value: str) -> str:
    """``query`` narrowed by a category (replacing any other) or one more tag."""
    token = f"{kind}:{quote(value)}"
    if kind == "category":
        return f"{_CATEGORY_TOKEN.sub('', query).strip()} {token}".strip()
    if token.lower() in query.lower().split():
        return query
    return f"{query.strip()} {token}".strip()


def current_sort(query: str) -> str:
    """The sort the backend applies to ``query`` (its default: relevance with words)."""
    match = _SORT_TOKEN.search(query)
    if match:
        name = match.group(0).strip().split(":", 1)[1].lower()
        if name in SORT_CYCLE:
            return name
    return "relevance" if _has_words(query) else "downloads"


class MarketScreen(ConsoleScreen):
    """The catalog: live search with the filter grammar, facets, featured, one page at a time.

    Searching has no fixed delay: a key typed while the backend is idle searches at once, and
    keys typed while a search runs fold into one search of the latest text when it returns
    (a debounce's effect without its added latency). One worker does it all, so answers
    never arrive out of order.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="focus-filter"),
        Binding("s", "cycle_sort", "Sort", id="cycle-sort"),
        Binding("b", "toggle_browse", "Browse", id="toggle-browse"),
        Binding("i", "import_starter", "Import starter", id="import-starter"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("escape", "focus_results", "Results", id="leave-search"),
        Binding("down", "focus_results", "Results", show=False, id="focus-results"),
    ]

    class QueryAnswered(Message):
        """The screen shows the answer to ``query``: a page of results, or why it is invalid.

        The benchmark and the tests wait for it.
        """

        def __init__(self, query: str, page: SearchPage | None) -> None:
            super().__init__()
            self.query = query
            self.page = page

    def __init__(self, context: ConsoleContext, query: str = "") -> None:
        super().__init__(context)
        self.title = "Market"
        self._initial_query = query
        self._wanted: SearchRequest | None = None
        self._shown: SearchRequest | None = None
        self._searching = False
        self._refresh_timer: Timer | None = None
        self.catalog_empty = False
        self.last_page: SearchPage | None = None
        self.categories: list[CategoryCount] = []
        self.facets_loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchBox(self._initial_query, id="market-search")
        yield Static("Searching…", id="market-status")
        with Horizontal(id="market-body"):
            with Vertical(id="market-side"):
                yield FacetList(id="market-facets")
            with Vertical(id="market-main"):
                yield ServiceTable(id="market-table")
                yield Static("", id="market-empty")
        yield Footer(compact=True)

    @property
    def table(self) -> ServiceTable:
        """The results table."""
        return self.query_one(ServiceTable)

    @property
    def search_box(self) -> SearchBox:
        """The search input with its error line."""
        return self.query_one(SearchBox)

    def on_mount(self) -> None:
        # Keys first, like k9s: letters are commands (q quits) until `/` opens the search.
        self.table.focus()
        # The page size is a screenful: wait for the first layout to know it.
        self.call_after_refresh(self._first_search)
        self.load_facets()

    def _first_search(self) -> None:
        self.request(SearchRequest(self.search_box.value, 1, self._page_size()))

    def _page_size(self) -> int:
        if not self.table.display and self._shown is not None:
            # Hidden while nothing matches, the table has no height: keep the last screenful.
            return self._shown.page_size
        return max(MIN_PAGE_SIZE, min(MAX_PAGE_SIZE, self.table.visible_rows))

    # --- searching ----------------------------------------------------------------------

    def request(self, wanted: SearchRequest) -> None:
        """Ask for ``wanted``; keystrokes that arrive while a search runs fold into one."""
        self._wanted = wanted
        if not self._searching:
            self._searching = True
            self._search()

    @work(exclusive=True, group="market-search", exit_on_error=False)
    async def _search(self) -> None:
        """Run the newest request until what is shown is what was last asked for."""
        try:
            while self._wanted is not None and self._wanted != self._shown:
                wanted = self._wanted
                try:
                    page = await self.client.search_services(
                        wanted.query, page=wanted.page, page_size=wanted.page_size
                    )
                except Invalid as error:
                    self._shown = wanted
                    self.search_box.show_error(error.message)
                    self.post_message(self.QueryAnswered(wanted.query, None))
                    continue
                except ConsoleError as error:
                    self._shown = wanted
                    self.report(error, "search the catalog")
                    continue
                self._shown = wanted
                if wanted == self._wanted:
                    self._show(wanted, page)
        except Exception as error:  # a bug must not leave the search dead
            self.report(error, "search the catalog")
        finally:
            self._searching = False

    def _show(self, wanted: SearchRequest, page: SearchPage) -> None:
        if not page.items and page.page > 1 and page.total > 0:
            # Past the end (paged by an estimated total): go to the real last page.
            last = math.ceil(page.total / page.page_size)
            if last < page.page:
                self.request(SearchRequest(wanted.query, last, wanted.page_size, "bottom"))
                return
        self.search_box.show_error(None)
        self.last_page = page
        self.table.show_page(page, wanted.cursor)
        first_run = page.total == 0 and not wanted.query.strip()
        if first_run != self.catalog_empty:
            self.catalog_empty = first_run
            self.refresh_bindings()  # `i` is offered only while the catalog is empty
        # Every keystroke lands here: touch only what changed, so a frame costs little.
        empty = self.query_one("#market-empty", Static)
        if empty.display != (page.total == 0):
            empty.display = page.total == 0
            self.table.display = page.total > 0
        if first_run:
            empty.update(
                "The catalog is empty.\n\n"
                f"Press [b]i[/b] to import the starter catalog ({len(starter_documents())} "
                "servers, among them mcp-console's example server, which runs with no "
                "network), or publish your own from the developer console ([b]4[/b])."
            )
        elif page.total == 0:
            empty.update(f"No services match [b]{_escape(wanted.query)}[/b].")
        self.query_one("#market-status", Static).update(self._status(wanted, page), layout=False)
        self.post_message(self.QueryAnswered(wanted.query, page))

    def _status(self, wanted: SearchRequest, page: SearchPage) -> str:
        pages = f"{self.table.pages}" if page.total_exact else f"~{self.table.pages}"
        count = page.total_text()
        what = f"{count} published service(s)" if not wanted.query.strip() else f"{count} match(es)"
        return f"{what} · page {page.page}/{pages} · sort: {current_sort(wanted.query)}"

    @on(Input.Changed, "#search-input")
    def _query_changed(self, event: Input.Changed) -> None:
        self.request(SearchRequest(event.value, 1, self._page_size()))

    @on(Input.Submitted, "#search-input")
    def _query_submitted(self) -> None:
        if self.table.display:
            self.table.focus()

    def on_service_table_page_requested(self, event: ServiceTable.PageRequested) -> None:
        self.request(
            SearchRequest(self.search_box.value, event.page, self._page_size(), event.cursor)
        )

    def on_resize(self) -> None:
        shown = self._shown
        if shown is None or self._page_size() == shown.page_size:
            return
        first = (shown.page - 1) * shown.page_size
        size = self._page_size()
        self.request(SearchRequest(shown.query, first // size + 1, size, "keep"))

    # --- facets -------------------------------------------------------------------------

    @work(exclusive=True, group="market-facets", exit_on_error=False)
    async def load_facets(self) -> None:
        """Featured services, categories and tags (not per keystroke: they change rarely)."""
        try:
            featured, categories, tags = await asyncio.gather(
                self.client.featured_services(limit=8),
                self.client.list_categories(),
                self.client.list_tags(limit=40),
            )
        except Exception as error:
            self.facets_loaded = True
            self.report(error, "load categories and tags")
            return
        self.facets_loaded = True
        self.categories = categories
        self.query_one(FacetList).show(featured, categories, tags)
        self.search_box.suggester.learn("category", [c.name for c in categories])
        self.search_box.suggester.learn("tag", [t.name for t in tags])

    def on_facet_list_facet_chosen(self, event: FacetList.FacetChosen) -> None:
        self.search_box.set_query(with_facet(self.search_box.value, event.kind, event.value))
        self.table.focus()

    def on_facet_list_service_chosen(self, event: FacetList.ServiceChosen) -> None:
        self.post_message(ServiceOpenRequested(event.name))

    def on_service_table_service_chosen(self, event: ServiceTable.ServiceChosen) -> None:
        self.post_message(ServiceOpenRequested(event.name))

    # --- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import_starter":
            return self.catalog_empty
        if action == "focus_results":
            # Only the search box hands the cursor over; elsewhere esc and down do their own.
            return self.search_box.input.has_focus
        return True

    def action_focus_filter(self) -> None:
        self.search_box.input.focus()

    def action_focus_results(self) -> None:
        """``down`` or ``esc`` in the search box goes to the results (or the side list)."""
        if self.table.display:
            self.table.focus()
        else:
            self.query_one(FacetList).focus()

    def set_query(self, query: str) -> None:
        """Show the market filtered by ``query`` (the palette's browse commands use it)."""
        self.search_box.set_query(query)
        self.table.focus()

    def action_cycle_sort(self) -> None:
        value = self.search_box.value
        self.search_box.set_query(with_sort(value, current_sort(value)))

    def action_toggle_browse(self) -> None:
        self.toggle_class("-browse-toggled")

    def action_refresh(self) -> None:
        self._shown = None
        if self._wanted is not None:
            self.request(self._wanted)
        self.load_facets()

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if event.kind in CATALOG_EVENTS:
            # Imports publish one event per batch, reviews one each: refresh once after a lull.
            if self._refresh_timer is not None:
                self._refresh_timer.stop()
            self._refresh_timer = self.set_timer(REFRESH_DELAY, self._refresh_after_event)

    def _refresh_after_event(self) -> None:
        self._refresh_timer = None
        if self._shown is not None:
            self._shown = None
            self.request(SearchRequest(self.search_box.value, 1, self._page_size(), "keep"))
        self.load_facets()

    def action_import_starter(self) -> None:
        self.import_starter()

    @work(exclusive=True, group="market-import", exit_on_error=False)
    async def import_starter(self) -> None:
        """Offer, then import, the bundled starter catalog."""
        documents = starter_documents()
        confirmed = await self.app.push_screen_wait(
            ConfirmModal(
                f"Import the starter catalog ({len(documents)} servers)?",
                "Time and Git (reference servers installed from the package index) and "
                "mcp-console's example server, which runs with no network at all.",
                verb="Import",
            )
        )
        if not confirmed:
            return
        try:
            report = await self.client.import_catalog(documents)
        except Exception as error:
            self.report(error, "import the starter catalog")
            return
        self._announce(report)
        self.action_refresh()

    def _announce(self, report: ImportReport) -> None:
        done = len(report.created) + len(report.updated) + len(report.unchanged)
        if report.problems:
            lines = "\n".join(f"• {p.entry or p.origin}: {p.reason}" for p in report.problems)
            self.app.push_screen(
                ErrorModal(f"Imported {done} service(s); some entries were refused", lines)
            )
        else:
            self.notify(f"Imported {done} service(s) into the catalog.", title="Starter catalog")


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
