"""The catalog search grammar: free words mixed with ``key:value`` filters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcp_console.schemas.catalog import PriceModel, ServiceStatus, SortKey
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.search import FEATURED, FILTER_KEYS, FIXED_VALUES, SORT_KEYS

MAX_QUERY_LENGTH = 1000
MAX_WORDS = 16
MAX_TAGS = 10
MAX_VALUE_LENGTH = 100
# A term this long or longer matches as a prefix ("git" finds "github"); a single character
# would expand to a large share of the vocabulary on every keystroke, so it must match whole.
MIN_PREFIX_LENGTH = 2

_PIECE = re.compile(
    r"""\s*(?:
        (?P<key>[A-Za-z][A-Za-z_-]*):(?:"(?P<quoted>[^"]*)"?|(?P<value>\S*))
        | "(?P<phrase>[^"]*)"?
        | (?P<word>\S+)
    )""",
    re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same split as the full-text tokenizers: runs of letters and digits, nothing else.
_TERM = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    """A search query, parsed: the words to find and the filters to apply.

    ``words`` keeps each word (or quoted phrase) as typed; only words holding at least one
    letter or digit are kept, since punctuation alone cannot be searched for.
    ``status`` is ``None`` for the default visibility (published services only).
    """

    words: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()
    prices: tuple[PriceModel, ...] = ()
    status: ServiceStatus | None = None
    author: str | None = None
    featured: bool | None = None
    sort: SortKey = "downloads"


def terms_of(word: str) -> tuple[str, ...]:
    """The lower-case search terms of a word: ``io.github.acme/weather`` gives four."""
    return tuple(term.lower() for term in _TERM.findall(word))


def parse_query(text: str) -> ParsedQuery:
    """Parse a search box's text.

    Free words are matched as prefixes over names, descriptions and tags; filters are
    ``category:NAME``, ``tag:NAME`` (repeatable; every tag must match),
    ``price:free|paid|freemium`` (``|`` means either), ``status:published|draft|deprecated``,
    ``author:NAME``, ``featured:yes|no`` and ``sort:relevance|rating|downloads|new|name``.
    Values may be quoted (``category:"dev ops"``). The sort defaults to relevance when there
    are words and to downloads (most popular first) when there are none.

    Raises:
        Invalid: an unknown key (the message lists the valid ones), a bad or missing value
            (the message lists the valid values), a key given twice, a query too long or
            holding control characters.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise Invalid(f"the query is longer than {MAX_QUERY_LENGTH} characters", field="query")
    if _CONTROL.search(text):
        raise Invalid("the query contains control characters", field="query")
    words: list[str] = []
    seen: set[str] = set()
    filters = _Filters()
    for piece in _PIECE.finditer(text):
        key = piece["key"]
        if key is None:
            word = (piece["phrase"] if piece["phrase"] is not None else piece["word"]).strip()
            if terms_of(word):
                words.append(word)
            continue
        key = key.lower()
        value = (piece["quoted"] if piece["quoted"] is not None else piece["value"]).strip()
        if key not in FILTER_KEYS:
            raise Invalid(
                f"unknown filter {key + ':'!r}; valid filters are {_listed(FILTER_KEYS)}",
                field="query",
            )
        if key in seen and key != "tag":
            hint = " (use | to accept several prices)" if key == "price" else ""
            raise Invalid(f"the filter {key + ':'!r} may be given only once{hint}", field="query")
        seen.add(key)
        filters.set(key, value)
    if len(words) > MAX_WORDS:
        raise Invalid(f"the query has more than {MAX_WORDS} words", field="query")
    if len(filters.tags) > MAX_TAGS:
        raise Invalid(f"the query has more than {MAX_TAGS} tag: filters", field="query")
    return ParsedQuery(
        words=tuple(words),
        category=filters.category,
        tags=tuple(filters.tags),
        prices=filters.prices,
        status=filters.status,
        author=filters.author,
        featured=filters.featured,
        sort=filters.sort or ("relevance" if words else "downloads"),
    )


class _Filters:
    """The filters of a query as they are read, checked value by value."""

    def __init__(self) -> None:
        self.category: str | None = None
        self.author: str | None = None
        self.tags: list[str] = []
        self.prices: tuple[PriceModel, ...] = ()
        self.status: ServiceStatus | None = None
        self.featured: bool | None = None
        self.sort: SortKey | None = None

    def set(self, key: str, value: str) -> None:
        if key == "category":
            self.category = _text_value(key, value)
        elif key == "author":
            self.author = _text_value(key, value)
        elif key == "tag":
            tag = _text_value(key, value)
            if tag.lower() not in (known.lower() for known in self.tags):
                self.tags.append(tag)
        elif key == "price":
            names = _choices(key, value.split("|"), list(FIXED_VALUES[key]))
            self.prices = tuple(PriceModel(name.upper()) for name in names)
        elif key == "status":
            self.status = ServiceStatus(_choices(key, [value], list(FIXED_VALUES[key]))[0].upper())
        elif key == "featured":
            self.featured = FEATURED[_choices(key, [value], list(FEATURED))[0]]
        else:
            name = _choices(key, [value], list(SORT_KEYS))[0]
            self.sort = next(sort for sort in SORT_KEYS if sort == name)


def _choices(key: str, given: list[str], valid: list[str]) -> list[str]:
    """The given names, lower-cased and de-duplicated, each checked against ``valid``."""
    chosen: list[str] = []
    for raw in given:
        name = raw.strip().lower()
        if name not in valid:
            what = repr(name) if name else "nothing"
            raise Invalid(
                f"bad value {what} for {key + ':'!r}; valid values are {_listed(valid)}",
                field="query",
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def _text_value(key: str, value: str) -> str:
    if not value:
        raise Invalid(f"the filter {key + ':'!r} needs a value", field="query")
    if len(value) > MAX_VALUE_LENGTH:
        raise Invalid(
            f"the value of {key + ':'!r} is longer than {MAX_VALUE_LENGTH} characters",
            field="query",
        )
    return value


def _listed(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)
