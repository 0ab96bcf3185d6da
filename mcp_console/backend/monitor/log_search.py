"""What a log search asks for, and the one SQL query over the log store that answers it."""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_console.schemas.errors import Invalid

# The trigram index finds substrings of at least this many characters.
TRIGRAM = 3
COLUMNS = "l.id, l.at, l.deployment_id, l.instance, l.stream, l.level, l.text"
# The SQL function a regex search calls (registered on the reading connection).
REGEX_FUNCTION = "log_regex"


@dataclass(frozen=True, slots=True)
class TextMatch:
    """The text part of a search: a substring (case-insensitive) or a regex, maybe inverted.

    ``indexed`` is a substring every matching line contains, for the full-text index to
    find candidates (``None``: the lines are read in order and tested one by one).
    """

    needle: str
    regex: re.Pattern[str] | None
    inverse: bool
    indexed: str | None


def parse_text(text: str) -> TextMatch:
    """Read the search grammar: ``word``, ``/regex/``, ``!word``, ``!/regex/``.

    Raises:
        Invalid: the regex does not compile, or nothing is left to search for.
    """
    inverse = text.startswith("!")
    body = text[1:] if inverse else text
    if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
        source = body[1:-1]
        try:
            regex = re.compile(source)
        except re.error as exc:
            raise Invalid(f"invalid regex /{source}/: {exc}", field="text") from None
        literal = None if inverse else required_literal(source)
        return TextMatch(source, regex, inverse, literal)
    if not body:
        raise Invalid("give text to search for after '!'", field="text")
    indexed = body if len(body) >= TRIGRAM and not inverse else None
    return TextMatch(body, None, inverse, indexed)


def required_literal(source: str) -> str | None:
    """The longest run of plain characters every match of ``source`` contains, when it is
    at least a trigram long (``/timeout after \\d+ms/`` → ``timeout after ``)."""
    parser: Any = importlib.import_module("re._parser")
    try:
        items = list(parser.parse(source))
    except re.error:
        return None
    best, run = "", ""
    for op, value in items:
        if str(op) == "LITERAL":
            run += chr(value)
            continue
        best, run = max(best, run, key=len), ""
    best = max(best, run, key=len)
    return best if len(best) >= TRIGRAM else None


@dataclass(frozen=True, slots=True)
class LogFilter:
    """A resolved search: the deployments the reader may see and what to match.

    ``after_id`` asks for lines newer than that id, oldest first (a follower's next
    page); otherwise the newest lines come first.
    """

    deployment_ids: Sequence[int]
    instance: str | None = None
    min_level: int = 0
    since: float | None = None
    until: float | None = None
    text: TextMatch | None = None
    after_id: int | None = None
    limit: int = 100


def build_query(wanted: LogFilter, ids: tuple[int, int]) -> tuple[str, list[Any]]:
    """The SQL and its parameters for ``wanted`` (over ``lines l``, through ``lines_fts``
    when the text has a part the index finds).

    ``ids`` bounds the row ids (inclusive): ids grow with time, so the store turns a
    time range into ids first (one index probe each) and the newest-first walk starts
    and stops at the edges of the range instead of reading past them. Access lines are
    not in the index: with an indexed text, they are read newest first and tested one by
    one beside the index's matches, and the two pages merged.
    """
    direction = "ASC" if wanted.after_id is not None else "DESC"
    match = wanted.text
    if match is None or match.indexed is None:
        where, params = _filters(wanted)
        if match is not None:
            where.append(_text_test(match, params) or "1")
        return _page("lines l", "l.id", where, params, ids, direction, wanted.limit)
    where, params = _filters(wanted)
    where.insert(0, "lines_fts MATCH ?")
    params.insert(0, _phrase(match.indexed))
    test = _text_test(match, params)
    if test is not None:
        where.append(test)
    source = "lines_fts JOIN lines l ON l.id = lines_fts.rowid"
    indexed, indexed_params = _page(
        source, "lines_fts.rowid", where, params, ids, direction, wanted.limit
    )
    where, params = _filters(wanted)
    # The partial index of access lines walks them alone, in id order.
    # LIKE folds ASCII case as the index does, and reads faster than instr(lower()).
    where += ["l.stream = 'access'", "l.text LIKE ? ESCAPE '\\'"]
    params.append(f"%{_like_escaped(match.indexed)}%")
    test = _text_test(match, params)
    if test is not None:
        where.append(test)
    source = "lines l INDEXED BY lines_access"
    access, access_params = _page(source, "l.id", where, params, ids, direction, wanted.limit)
    # Only fixed fragments are formatted in; every value is a parameter.
    sql = (
        f"SELECT * FROM ({indexed}) UNION ALL SELECT * FROM ({access}) "  # noqa: S608
        f"ORDER BY id {direction} LIMIT ?"
    )
    return sql, [*indexed_params, *access_params, wanted.limit]


def _filters(wanted: LogFilter) -> tuple[list[str], list[Any]]:
    """The conditions on a line's fields (deployment, instance, level, time)."""
    where: list[str] = []
    params: list[Any] = []
    marks = ",".join("?" * len(wanted.deployment_ids))
    where.append(f"l.deployment_id IN ({marks})")
    params.extend(wanted.deployment_ids)
    if wanted.instance is not None:
        where.append("l.instance = ?")
        params.append(wanted.instance)
    if wanted.min_level > 0:
        where.append("l.level >= ?")
        params.append(wanted.min_level)
    if wanted.since is not None:
        where.append("l.at >= ?")
        params.append(wanted.since)
    if wanted.until is not None:
        where.append("l.at <= ?")
        params.append(wanted.until)
    return where, params


def _page(
    source: str,
    order: str,
    where: list[str],
    params: list[Any],
    ids: tuple[int, int],
    direction: str,
    limit: int,
) -> tuple[str, list[Any]]:
    """One page of lines from ``source``: ``where``, within ``ids``, ordered by ``order``."""
    clauses = " AND ".join([*where, f"{order} BETWEEN ? AND ?"])
    # Only fixed fragments are formatted in; every value is a parameter.
    sql = f"SELECT {COLUMNS} FROM {source} WHERE {clauses} ORDER BY {order} {direction} LIMIT ?"  # noqa: S608
    return sql, [*params, *ids, limit]


def _text_test(match: TextMatch, params: list[Any]) -> str | None:
    """The per-line test beyond what the index found (``None``: the index is exact)."""
    if match.regex is not None:
        return f"{'NOT ' if match.inverse else ''}{REGEX_FUNCTION}(l.text)"
    if match.indexed is not None:
        return None
    params.append(match.needle.lower())
    return f"instr(lower(l.text), ?) {'=' if match.inverse else '>'} 0"


def _like_escaped(text: str) -> str:
    """``text`` with LIKE's wildcards (and the escape character) taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: the trigram index matches it as a substring."""
    return '"' + text.replace('"', '""') + '"'
