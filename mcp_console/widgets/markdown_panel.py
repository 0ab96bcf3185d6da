"""MarkdownPanel: a scrollable, focusable Markdown document (readmes, changelogs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import VerticalScroll
from textual.widgets import Markdown

READ_MORE_LIMIT = 200_000


class MarkdownPanel(VerticalScroll, can_focus=True):
    """Renders Markdown; links are not opened (an SSH session has no browser to open)."""

    DEFAULT_CSS = """
    MarkdownPanel {
        height: 1fr;
        padding: 0 1;
    }
    MarkdownPanel:focus {
        background: $boost;
    }
    MarkdownPanel > Markdown {
        margin: 0;
        padding: 0;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text

    def compose(self) -> ComposeResult:
        yield Markdown(self._text, open_links=False)

    def show(self, text: str) -> AwaitComplete:
        """Replace the document with ``text`` and scroll back to its top."""
        self._text = text[:READ_MORE_LIMIT]
        self.scroll_home(animate=False)
        return self.query_one(Markdown).update(self._text)
