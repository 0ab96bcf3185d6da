"""Catalog search over services in memory, by the backend's grammar, scope and sort orders.

Not modelled: ranking by text relevance (``relevance`` orders by popularity, as the backend
does past its ranking cap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mcp_console.backend.catalog.search import parse_query
from mcp_console.backend.catalog.search.base import (
    NAME_KEY,
    SORT_ORDERS,
    check_page,
    effective_sort,
    scope_of,
)
from mcp_console.backend.catalog.search.query import MIN_PREFIX_LENGTH, ParsedQuery, terms_of
from mcp_console.schemas.catalog import (
    CategoryCount,
    SearchPage,
    ServiceDetail,
    ServiceView,
    TagCount,
)
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Principal


def search_page(
    services: Iterable[ServiceDetail],
    actor: Principal,
    text: str,
    page: int,
    page_size: int,
    *,
    estimate_above: int | None = None,
    overestimate: int = 0,
) -> SearchPage:
    """One page of what ``text`` finds; a full page of more than ``estimate_above`` matches
    reports an estimated total (``overestimate`` too many), as a broad PostgreSQL search does."""
    offset = check_page(page, page_size)
    query = parse_query(text)
    found = [s for s in services if _fits(query, actor, s)]
    for column, descending in reversed(SORT_ORDERS[effective_sort(query)]):
        found.sort(key=_column(column), reverse=descending)
    items = [view_of(s) for s in found[offset : offset + page_size]]
    estimated = (
        estimate_above is not None and len(found) > estimate_above and len(items) == page_size
    )
    return SearchPage(
        query=text,
        items=items,
        total=len(found) + overestimate if estimated else len(found),
        total_exact=not estimated,
        page=page,
        page_size=page_size,
    )


def category_counts(published: Iterable[ServiceDetail]) -> list[CategoryCount]:
    """Published services per category, most populated first, then by name."""
    counts = _counts(s.category for s in published if s.category)
    return [CategoryCount(name=name, count=n) for name, n in counts]


def tag_counts(published: Iterable[ServiceDetail], limit: int) -> list[TagCount]:
    """The ``limit`` tags carried by most published services, then by name."""
    if limit < 1:
        raise Invalid(f"limit must be 1 or more, not {limit}", field="limit")
    counts = _counts(tag for s in published for tag in s.tags)
    return [TagCount(name=name, count=n) for name, n in counts[:limit]]


def view_of(detail: ServiceDetail) -> ServiceView:
    """A service as a row of the market."""
    return ServiceView.model_validate(detail.model_dump())


def _fits(query: ParsedQuery, actor: Principal, s: ServiceDetail) -> bool:
    scope = scope_of(query, actor)
    return (
        scope is not None
        and s.status is scope.status
        and (scope.author_id is None or s.author == actor.name)
        and (query.author is None or s.author.lower() == query.author.lower())
        and (query.category is None or (s.category or "").lower() == query.category.lower())
        and all(tag.lower() in (t.lower() for t in s.tags) for tag in query.tags)
        and (not query.prices or s.price_model in query.prices)
        and (query.featured is None or s.featured is query.featured)
        and all(_matches(word, s) for word in query.words)
    )


def _column(name: str) -> Callable[[ServiceDetail], Any]:
    """A sort order's column read from a service (``name_key``: the name in lower case)."""
    if name == NAME_KEY:
        return lambda s: s.name.lower()
    return lambda s: getattr(s, name)


def _counts(values: Iterable[str]) -> list[tuple[str, int]]:
    """How often each value occurs, most frequent first, then by value."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _matches(word: str, service: ServiceDetail) -> bool:
    """Whether a word (or phrase) occurs in a text column, its last term as a prefix."""
    terms = terms_of(word)
    columns = (service.name, service.display_name, " ".join(service.tags), service.description)
    return any(_phrase_in(terms, terms_of(column)) for column in columns)


def _phrase_in(terms: tuple[str, ...], tokens: tuple[str, ...]) -> bool:
    *whole, last = terms
    prefix = len(last) >= MIN_PREFIX_LENGTH
    for start in range(len(tokens) - len(terms) + 1):
        window = tokens[start : start + len(terms)]
        end = window[-1]
        if list(window[:-1]) == whole and (end.startswith(last) if prefix else end == last):
            return True
    return False
