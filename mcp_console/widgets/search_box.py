"""SearchBox: the filter grammar's input, completing keys and known values, with an error line."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Static

# The grammar's vocabulary helps typing; the backend parses the query and says what is wrong.
from mcp_console.schemas.search import FILTER_KEYS, FIXED_VALUES

PLACEHOLDER = "Search: words and filters, e.g. git tag:vcs price:free sort:rating"


def quote(value: str) -> str:
    """A filter value as the grammar reads it back (quoted when it holds spaces)."""
    return f'"{value}"' if any(c.isspace() for c in value) or not value else value


class GrammarSuggester(Suggester):
    """Completes the word being typed: a filter key, or a value of the key before the colon."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.values: dict[str, tuple[str, ...]] = dict(FIXED_VALUES)

    def learn(self, key: str, values: Iterable[str]) -> None:
        """Offer ``values`` (e.g. the catalog's categories) after ``key:``."""
        self.values[key] = tuple(quote(v) for v in values)

    async def get_suggestion(self, value: str) -> str | None:
        if value.count('"') % 2:
            # Inside a quoted value: the word being typed starts before its opening quote.
            cut = value.rfind(" ", 0, value.rfind('"'))
            head, space, word = value[: max(cut, 0)], " " if cut >= 0 else "", value[cut + 1 :]
        else:
            head, space, word = value.rpartition(" ")
        if not word:
            return None
        key, colon, partial = word.partition(":")
        if colon:
            typed, start = partial, f"{head}{space}{key}:"
            candidates: Iterable[str] = self.values.get(key.lower(), ())
        else:
            typed, start = key, f"{head}{space}"
            candidates = (f"{k}:" for k in FILTER_KEYS)
        for candidate in candidates:
            if candidate.lower().startswith(typed.lower()) and len(candidate) > len(typed):
                return start + typed + candidate[len(typed) :]
        return None


class SearchBox(Vertical):
    """The search input and, under it, the backend's complaint about the query (if any)."""

    DEFAULT_CSS = """
    SearchBox {
        height: auto;
    }
    SearchBox > #search-error {
        height: auto;
        color: $text-error;
        padding: 0 1;
        display: none;
    }
    SearchBox.-invalid > #search-error {
        display: block;
    }
    SearchBox.-invalid > Input {
        border: tall $error;
    }
    """

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggester = GrammarSuggester()
        self._value = value

    def compose(self) -> ComposeResult:
        yield Input(
            self._value,
            placeholder=PLACEHOLDER,
            suggester=self.suggester,
            id="search-input",
        )
        yield Static("", id="search-error")

    @property
    def input(self) -> Input:
        """The text input itself."""
        return self.query_one("#search-input", Input)

    @property
    def value(self) -> str:
        """The query as typed."""
        return self.input.value

    def set_query(self, value: str) -> None:
        """Replace the query (posts ``Input.Changed`` like typing does) and keep the cursor last."""
        self.input.value = value
        self.input.cursor_position = len(value)

    def show_error(self, message: str | None) -> None:
        """Show the backend's reason the query is invalid, or clear it."""
        if not message and not self.has_class("-invalid"):
            return  # the usual case on every keystroke: nothing to redraw
        self.set_class(bool(message), "-invalid")
        self.query_one("#search-error", Static).update(f"✗ {message}" if message else "")
