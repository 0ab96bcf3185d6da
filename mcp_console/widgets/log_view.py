"""LogView: the instances' log lines merged; it follows, pauses, and filters (text, regex, not)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, RichLog, Static

from mcp_console.schemas.deploy import InstanceLogs
from mcp_console.widgets.charts import INSTANCE_COLOURS

MAX_LINES = 2000
FILTER_HINT = "filter: text · /regex/ · !text for lines without it"
FILTER_HELP = (
    ("text", "lines containing it (case ignored)"),
    ("/regex/", "lines matching a regular expression, e.g. /error|warn/"),
    ("!text  !/regex/", "lines that do not contain or match it"),
    ("p", "pause (new lines are held and counted) / follow again"),
)


@dataclass(frozen=True)
class LogLine:
    """One line one instance wrote."""

    instance: str
    text: str


@dataclass(frozen=True)
class LogFilter:
    """Which lines to show: containing a text, matching a ``/regex/``, or (``!``) not.

    Text matches ignore case; so does a regex.
    """

    source: str = ""
    needle: str = ""
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    inverse: bool = False

    @classmethod
    def parse(cls, source: str) -> LogFilter:
        """The filter ``source`` describes.

        Raises:
            ValueError: the regex does not compile (the message says where and why).
        """
        text = source.strip()
        inverse = text.startswith("!")
        if inverse:
            text = text[1:].lstrip()
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            try:
                pattern = re.compile(text[1:-1], re.IGNORECASE)
            except re.error as error:
                where = f" at position {error.pos}" if error.pos is not None else ""
                raise ValueError(f"regex /{text[1:-1]}/: {error.msg}{where}") from None
            return cls(source, pattern=pattern, inverse=inverse)
        return cls(source, needle=text.lower(), inverse=inverse)

    @property
    def active(self) -> bool:
        """Whether it hides anything at all."""
        return self.pattern is not None or bool(self.needle)

    def matches(self, line: LogLine) -> bool:
        """Whether ``line`` is shown."""
        if not self.active:
            return True
        if self.pattern is not None:
            hit = self.pattern.search(line.text) is not None
        else:
            hit = self.needle in line.text.lower()
        return hit != self.inverse

    def highlight(self) -> re.Pattern[str] | None:
        """What to mark in a shown line (nothing for an inverse filter: it matched nothing)."""
        if self.inverse or not self.active:
            return None
        return self.pattern or re.compile(re.escape(self.needle), re.IGNORECASE)

    def describe(self) -> str:
        """The filter in words, for the status line."""
        what = f"/{self.pattern.pattern}/" if self.pattern else f'"{self.needle}"'
        verb = "matching" if self.pattern else "containing"
        return f"lines {'not ' if self.inverse else ''}{verb} {what}"


def fresh_lines(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """The lines of the tail ``new`` that came after the tail ``old`` of the same log.

    Both are the last lines of a log read at two moments; the longest end of ``old`` that
    starts ``new`` is what both saw. Without any overlap everything in ``new`` is fresh.
    """
    if list(old) == list(new):
        return []
    for overlap in range(min(len(old), len(new)), 0, -1):
        if list(old[len(old) - overlap :]) == list(new[:overlap]):
            return list(new[overlap:])
    return list(new)


class LogView(Vertical):
    """A filter line, a status line and the log; lines arriving while paused are held."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
    }
    LogView #log-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    LogView #log-status.-error {
        color: $text-error;
    }
    LogView #log-lines {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter = LogFilter()
        self.paused = False
        self.error: str | None = None
        self._lines: deque[LogLine] = deque(maxlen=MAX_LINES)
        self._held: list[LogLine] = []
        self._colours: dict[str, str] = {}
        self._tails: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder=FILTER_HINT, id="log-filter", compact=True)
        yield Static("", id="log-status")
        yield RichLog(id="log-lines", max_lines=MAX_LINES, wrap=False, markup=False)

    @property
    def output(self) -> RichLog:
        """The lines as drawn."""
        return self.query_one("#log-lines", RichLog)

    @property
    def filter_input(self) -> Input:
        """Where the filter is typed."""
        return self.query_one("#log-filter", Input)

    @property
    def held(self) -> int:
        """Lines that arrived while paused (shown when following again)."""
        return len(self._held)

    @property
    def shown_lines(self) -> list[str]:
        """The text of every line drawn, top to bottom."""
        return [strip.text.rstrip() for strip in self.output.lines]

    def on_mount(self) -> None:
        self._status()

    def reset(self) -> None:
        """Forget every line (another deployment is being watched)."""
        self._lines.clear()
        self._held.clear()
        self._colours.clear()
        self._tails.clear()
        self.output.clear()
        self._status()

    def add_tails(self, logs: Iterable[InstanceLogs]) -> None:
        """Append what each instance wrote since its tail was last read."""
        fresh: list[LogLine] = []
        for entry in logs:
            new = fresh_lines(self._tails.get(entry.instance, []), entry.lines)
            self._tails[entry.instance] = list(entry.lines)
            fresh += [LogLine(entry.instance, text) for text in new]
        self.add(fresh)

    def add(self, lines: Iterable[LogLine]) -> None:
        """Append ``lines``: drawn when following, held while paused."""
        fresh = list(lines)
        if not fresh:
            return
        if self.paused:
            self._held.extend(fresh)
            del self._held[:-MAX_LINES]
        else:
            self._append(fresh)
        self._status()

    def _append(self, lines: list[LogLine]) -> None:
        self._lines.extend(lines)
        for line in lines:
            if self.filter.matches(line):
                self._write(line)

    def _write(self, line: LogLine) -> None:
        colour = self._colours.setdefault(
            line.instance, INSTANCE_COLOURS[len(self._colours) % len(INSTANCE_COLOURS)]
        )
        text = Text(line.instance, style=colour)
        text.append(" │ ", style="dim")
        body = Text(line.text)
        mark = self.filter.highlight()
        if mark is not None:
            body.highlight_regex(mark, style="reverse")
        text.append_text(body)
        self.output.write(text)

    def set_filter(self, source: str) -> str | None:
        """Show only the lines ``source`` selects; a bad regex keeps the previous filter.

        Returns:
            Why ``source`` is not a filter, or ``None``.
        """
        try:
            wanted = LogFilter.parse(source)
        except ValueError as error:
            self.error = str(error)
            self.filter_input.add_class("-invalid")
            self._status()
            return self.error
        self.error = None
        self.filter_input.remove_class("-invalid")
        if wanted != self.filter:
            self.filter = wanted
            self._redraw()
        self._status()
        return None

    def _redraw(self) -> None:
        self.output.clear()
        for line in self._lines:
            if self.filter.matches(line):
                self._write(line)

    def toggle_pause(self) -> bool:
        """Pause (hold new lines, stop scrolling) or follow again; returns ``paused``."""
        self.paused = not self.paused
        self.output.auto_scroll = not self.paused
        if not self.paused:
            held, self._held = self._held, []
            self._append(held)
            self.output.scroll_end(animate=False)
        self._status()
        return self.paused

    def _status(self) -> None:
        status = self.query_one("#log-status", Static)
        status.set_class(self.error is not None, "-error")
        if self.error is not None:
            status.update(Text(f"✗ {self.error}"))
            return
        total = len(self._lines)
        parts = [
            f"⏸ paused · {self.held} new line(s) held · p to follow"
            if self.paused
            else "▶ following"
        ]
        if self.filter.active:
            shown = sum(1 for line in self._lines if self.filter.matches(line))
            parts.append(f"{shown} of {total} line(s): {self.filter.describe()}")
        else:
            parts.append(f"{total} line(s)")
        # Text, not markup: the filter is whatever the user typed, brackets included.
        status.update(Text(" · ".join(parts)))

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    @on(Input.Submitted, "#log-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.output.focus()
