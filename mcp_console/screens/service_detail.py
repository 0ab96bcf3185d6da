"""ServiceDetailScreen: documentation, versions, tools, configuration and reviews of a service."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label, Static, TabbedContent, TabPane

from mcp_console.messages import BackendEventReceived, DeployRequested
from mcp_console.schemas.catalog import ReviewCreate, ReviewView, ServiceDetail, VersionView
from mcp_console.schemas.runnability import VersionRunnability
from mcp_console.screens.base import ConsoleContext, ConsoleScreen, describe
from mcp_console.screens.modals.review import ReviewModal
from mcp_console.widgets.api_reference import ApiReference
from mcp_console.widgets.histogram import RatingHistogram
from mcp_console.widgets.markdown_panel import MarkdownPanel
from mcp_console.widgets.reviews import ReviewList, VersionList
from mcp_console.widgets.schema_view import ConfigSummary
from mcp_console.widgets.service_table import humanize_count, price_label, status_text
from mcp_console.widgets.stars import rating_text
from mcp_console.widgets.version_fit import fit_details

TABS = ("overview", "versions", "tools", "config", "reviews")


def overview_markdown(service: ServiceDetail) -> str:
    """The Overview tab: description, links, then the readme."""
    parts = [service.description.strip() or "_No description._"]
    links = [
        f"- {label}: {url}"
        for label, url in (
            ("Repository", service.repository_url),
            ("Documentation", service.documentation_url),
        )
        if url
    ]
    if service.tags:
        links.append("- Tags: " + ", ".join(f"`{t}`" for t in service.tags))
    if links:
        parts.append("\n".join(links))
    parts.append(service.readme.strip() if service.readme else "_This service has no readme._")
    return "\n\n".join(parts)


def headline(service: ServiceDetail) -> Text:
    """Name, author, category, rating, downloads, price, status and latest version on a line."""
    text = Text(service.display_name or service.name, style="bold")
    if service.display_name and service.display_name != service.name:
        text.append(f"  {service.name}", style="dim")
    text.append(f"\nby {service.author} · {service.category or 'uncategorised'} · ")
    text.append_text(rating_text(service.rating_average, service.rating_count))
    text.append(f" · {humanize_count(service.downloads_count)} downloads · ")
    text.append(price_label(service.price_model, service.price_per_request))
    if service.price_model.value == "PAID":
        text.append("/request")
    text.append(" · ")
    text.append_text(status_text(service.status))
    text.append(f" · latest {service.latest_version or '—'}")
    return text


class ServiceDetailScreen(ConsoleScreen):
    """One service; ``r`` writes or edits your review, ``d`` deploys the selected version."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "review", "Review", id="review"),
        Binding("d", "deploy", "Deploy", id="deploy"),
        Binding("right_square_bracket", "tab(1)", "Next tab", id="next-tab"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="previous-tab"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
    ]

    def __init__(self, context: ConsoleContext, name: str) -> None:
        super().__init__(context)
        self.service_name = name
        self.title = name
        self.service: ServiceDetail | None = None
        self.reviews: list[ReviewView] = []
        self.me: str | None = None
        self.selected_version: VersionView | None = None
        # Whether each version runs on the backend's machine, once asked (by version).
        self.fits: dict[str, VersionRunnability] | None = None
        self.fits_problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Loading {self.service_name}…", id="detail-head")
        yield Static("", id="detail-banner")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Overview", id="overview"):
                yield MarkdownPanel(id="detail-overview")
            with TabPane("Versions", id="versions"), Horizontal():
                yield VersionList(id="detail-versions")
                with Vertical(id="version-side"):
                    yield Static("", id="detail-fit")
                    yield MarkdownPanel(id="detail-changelog")
            with TabPane("Tools", id="tools"):
                yield Label("", id="tools-version", classes="pane-caption")
                yield ApiReference(id="detail-tools")
            with TabPane("Config", id="config"):
                yield Label("", id="config-version", classes="pane-caption")
                yield ConfigSummary(id="detail-config")
            with TabPane("Reviews", id="reviews"), Horizontal():
                with Vertical(id="reviews-side"):
                    yield RatingHistogram(id="detail-histogram")
                yield ReviewList(id="detail-reviews")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail-banner").display = False
        self.load()
        self.load_fits()

    @work(exclusive=True, group="detail-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the service, its reviews and who I am, together."""
        try:
            service, reviews, me = await asyncio.gather(
                self.client.get_service(self.service_name),
                self.client.list_reviews(self.service_name),
                self.client.whoami(),
            )
        except Exception as error:
            if self.service is None:
                head = self.query_one("#detail-head", Static)
                head.update(Text(f"✗ {describe(error)}", style="bold red"))
                head.add_class("-error")
            self.report(error, f"load {self.service_name}")
            return
        self.query_one("#detail-head", Static).remove_class("-error")
        self.reviews, self.me = reviews, me.name
        await self._render_service(service)
        # Set last: actions and tests take a loaded service to mean a fully drawn page.
        self.service = service

    @work(exclusive=True, group="detail-fits", exit_on_error=False)
    async def load_fits(self) -> None:
        """Ask which versions run on this machine; the page is drawn without waiting."""
        try:
            answers = await self.client.version_runnability(self.service_name)
        except Exception as error:  # the page stands without the marks; say why they lack
            self.fits_problem = describe(error)
            self._show_fit()
            return
        self.fits, self.fits_problem = {a.version: a for a in answers}, None
        self.query_one(VersionList).mark(self.fits)
        self._show_fit()

    def _show_fit(self) -> None:
        version = self.selected_version
        if version is None:
            return
        fit = self.fits.get(version.version) if self.fits is not None else None
        details = fit_details(version, fit, self.fits_problem)
        self.query_one("#detail-fit", Static).update(details)

    async def _render_service(self, service: ServiceDetail) -> None:
        self.title = service.display_name or service.name
        self.query_one("#detail-head", Static).update(headline(service))
        banner = self.query_one("#detail-banner", Static)
        banner.display = bool(service.deprecation_message) or service.status.value == "DEPRECATED"
        banner.update(f"⚠ Deprecated: {service.deprecation_message or 'no reason given'}")
        await self.query_one("#detail-overview", MarkdownPanel).show(overview_markdown(service))
        latest = next((v for v in service.versions if v.is_latest), None)
        current = self.selected_version
        keep = next((v for v in service.versions if current and v.version == current.version), None)
        chosen = keep or latest or (service.versions[0] if service.versions else None)
        self.query_one(VersionList).show(service.versions, chosen.version if chosen else None)
        self._select_version(chosen)
        self.query_one(RatingHistogram).show(service.rating_average, service.rating_histogram)
        self.query_one(ReviewList).show(self.reviews, self.context.clock(), self.me)

    def _select_version(self, version: VersionView | None) -> None:
        self.selected_version = version
        tools, config = self.query_one(ApiReference), self.query_one(ConfigSummary)
        if version is None:
            for caption in ("#tools-version", "#config-version"):
                self.query_one(caption, Label).update("This service has no version yet.")
            tools.show({})
            config.show({})
            return
        suffix = " (latest)" if version.is_latest else " (pick another in Versions)"
        self.query_one("#tools-version", Label).update(f"Tools of {version.version}{suffix}")
        self.query_one("#config-version", Label).update(
            f"Configuration of {version.version}{suffix}"
        )
        tools.show(version.api_spec)
        config.show(version.config_schema)
        self._show_fit()
        changelog = version.changelog.strip() or "_No changelog for this version._"
        self.query_one("#detail-changelog", MarkdownPanel).show(
            f"## {version.version}\n\n{changelog}"
        )

    def on_version_list_version_highlighted(self, event: VersionList.VersionHighlighted) -> None:
        self._select_version(event.version)

    def on_backend_event_received(self, event: BackendEventReceived) -> None:
        if event.service == self.service_name:
            self.load()
            if event.kind == "version.added":
                self.load_fits()

    # --- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self.load()
        self.load_fits()

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        index = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(index + step) % len(TABS)]

    def action_deploy(self) -> None:
        if self.service is None:
            self.notify("The service has not loaded yet.", severity="warning")
            return
        version = self.selected_version.version if self.selected_version else None
        self.post_message(DeployRequested(self.service.name, version))

    def action_review(self) -> None:
        if self.service is None:
            self.notify("The service has not loaded yet.", severity="warning")
            return
        self.write_review()

    @work(exclusive=True, group="detail-review", exit_on_error=False)
    async def write_review(self) -> None:
        """Open the review form (prefilled with my review, if any), then show the result."""
        name = self.service_name
        mine = next((r for r in self.reviews if r.user == self.me), None)

        async def submit(review: ReviewCreate) -> ReviewView:
            return await self.client.add_review(name, review)

        saved = await self.app.push_screen_wait(ReviewModal(name, submit, mine))
        if saved is None:
            return
        self.notify(f"Your {saved.rating}-star review of {name} is saved.", title="Review")
        self.query_one(TabbedContent).active = "reviews"
        self.load()
