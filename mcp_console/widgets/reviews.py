"""ReviewList and VersionList: a service's reviews, and its versions with the latest marked."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mcp_console.schemas.catalog import ReviewView, VersionView
from mcp_console.schemas.runnability import VersionRunnability
from mcp_console.widgets.stars import stars
from mcp_console.widgets.timefmt import ago, day
from mcp_console.widgets.version_fit import fit_mark


class ReviewList(VerticalScroll, can_focus=True):
    """Reviews, newest first; the caller's own is marked."""

    DEFAULT_CSS = """
    ReviewList {
        height: 1fr;
        padding: 0 1;
    }
    ReviewList:focus {
        background: $boost;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="reviews-body")

    def show(self, reviews: list[ReviewView], now: datetime, me: str | None = None) -> None:
        """Render ``reviews``; times are relative to ``now``."""
        body = self.query_one("#reviews-body", Static)
        if not reviews:
            body.update(Text("No reviews yet. Press r to write the first one.", style="dim"))
            return
        parts: list[RenderableType] = []
        for review in reviews:
            line = Text(stars(review.rating), style="bold yellow")
            line.append(f" {review.user}", style="bold")
            if review.user == me:
                line.append(" (you)", style="cyan")
            line.append(f" · {ago(review.created_at, now)}", style="dim")
            if review.updated_at > review.created_at:
                line.append(" · edited", style="dim")
            parts.append(line)
            parts.append(Text(review.comment.strip() or "(no comment)", style="default"))
            parts.append(Text(""))
        body.update(Group(*parts))


class VersionList(OptionList):
    """Versions, newest first, each marked with whether it runs on this machine (and, under
    it, why not); the highlighted one's changelog is shown beside it."""

    DEFAULT_CSS = """
    VersionList {
        height: 1fr;
        width: 100%;
    }
    """

    class VersionHighlighted(Message):
        """The cursor moved onto a version."""

        def __init__(self, version: VersionView) -> None:
            super().__init__()
            self.version = version

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._versions: list[VersionView] = []
        self._fits: dict[str, VersionRunnability] | None = None

    def show(self, versions: list[VersionView], selected: str | None = None) -> None:
        """List ``versions`` (already newest first) and highlight ``selected`` if listed,
        else the latest (a refresh keeps the version being read)."""
        self._versions = list(versions)
        self._draw()
        latest = next((i for i, v in enumerate(versions) if v.is_latest), 0)
        chosen = next((i for i, v in enumerate(versions) if v.version == selected), latest)
        if versions:
            self.highlighted = chosen

    def mark(self, fits: dict[str, VersionRunnability]) -> None:
        """Mark each version with whether it runs here (``fits`` by version)."""
        self._fits = fits
        highlighted = self.highlighted
        self._draw()
        if highlighted is not None and highlighted < len(self._versions):
            self.highlighted = highlighted

    def _draw(self) -> None:
        options = []
        for version in self._versions:
            fit = self._fits.get(version.version) if self._fits is not None else None
            label = fit_mark(fit) if self._fits is not None else Text(" ")
            label.append(f" {version.version}", style="bold")
            if version.is_latest:
                label.append(" latest", style="bold green")
            if version.is_prerelease:
                label.append(" pre", style="yellow")
            if not version.published:
                label.append(" unpublished", style="dim")
            label.append(f"  {day(version.created_at)}", style="dim")
            if fit is not None and fit.caveat:
                label.append(f"\n   {fit.summary}", style="dim" if fit.runnable else "red")
            options.append(Option(label, id=version.version))
        self.set_options(options)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._versions):
            self.post_message(self.VersionHighlighted(self._versions[event.option_index]))
