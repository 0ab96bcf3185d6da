"""The logs view's query box, read as ``logs search`` reads its arguments, and its result rows."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import UTC

from rich.text import Text

from mcp_console.schemas.logs import LogLevel, LogLine, LogQuery
from mcp_console.widgets.columns import Column
from mcp_console.widgets.live_table import Row

# The options of ``mcp-console logs search``, by every name it takes, to LogQuery's fields.
OPTIONS = {
    "-d": "deployment",
    "--deployment": "deployment",
    "-i": "instance",
    "--instance": "instance",
    "-l": "level",
    "--level": "level",
    "--since": "since",
    "--until": "until",
}
QUERY_HINT = "text · /regex/ · !text   -d DEPLOYMENT  -l warn  --since 1h  (enter)"
QUERY_HELP = (
    ("text", "lines containing it, any case (several words: that phrase)"),
    ("/regex/", "lines matching a regular expression, e.g. /took \\d{4,}ms/"),
    ("!text  !/regex/", "lines without it"),
    ("-d NAME, --deployment NAME", "one deployment (OWNER/NAME for someone else's)"),
    ("-i NAME, --instance NAME", "one instance"),
    ("-l LEVEL, --level LEVEL", "that level and worse: debug, info, warn, error"),
    ("--since 1h, --until 30m", "a time range: back from now, or an ISO 8601 time"),
    ("f", "follow: new lines appear at the top as they are kept"),
)

LOG_COLUMNS = (
    Column("Time", "time", cut=False),
    Column("Deployment", "deployment", least=8, most=24, hide=2),
    Column("Instance", "instance", least=8, most=24, hide=1),
    Column("Level", "level", cut=False),
    Column("Line", "text", least=40, grow=True),
)
_LEVEL_STYLE = {
    LogLevel.DEBUG: "dim",
    LogLevel.INFO: "",
    LogLevel.WARN: "yellow",
    LogLevel.ERROR: "bold red",
}


def parse_query(source: str, limit: int) -> LogQuery:
    """The search ``source`` describes: ``logs search``'s options, the rest its text.

    Raises:
        ValueError: an unknown option, an option without its value, an unclosed quote.
    """
    # Quotes group words as in a shell, but a backslash stays itself: it belongs to regexes.
    lexer = shlex.shlex(source, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    try:
        words = list(lexer)
    except ValueError as error:
        raise ValueError(f"query: {error}") from None
    fields: dict[str, str] = {}
    text: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        name, equals, value = word.partition("=")
        if name in OPTIONS:
            if not equals:
                index += 1
                if index == len(words):
                    raise ValueError(f"{name} needs a value")
                value = words[index]
            fields[OPTIONS[name]] = value
        elif word.startswith("-") and len(word) > 1 and not word[1:2].isdigit():
            known = ", ".join(sorted({k for k in OPTIONS if k.startswith("--")}))
            raise ValueError(f"unknown option {word}; the options are {known} (and -d, -i, -l)")
        else:
            text.append(word)
        index += 1
    if text:
        fields["text"] = " ".join(text)
    return LogQuery.model_validate({**fields, "limit": limit})


def log_rows(lines: Sequence[LogLine]) -> list[Row]:
    """One row per line, keyed by its id, in the order given."""
    return [
        (
            str(line.id),
            (
                f"{line.at.astimezone(UTC):%m-%d %H:%M:%S}",
                line.deployment,
                line.instance or "—",
                Text(line.level.value.upper(), style=_LEVEL_STYLE[line.level]),
                Text(line.text, style=_LEVEL_STYLE[line.level] if line.level.rank >= 2 else ""),
            ),
        )
        for line in lines
    ]


def line_detail(line: LogLine) -> Text:
    """The highlighted line whole, with where and when it was written."""
    text = Text(f"{line.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC", style="dim")
    text.append(f"  {line.deployment} · {line.instance or '—'} · {line.stream.value} · ")
    text.append(line.level.value.upper(), style=_LEVEL_STYLE[line.level])
    text.append(f"\n{line.text}")
    return text
