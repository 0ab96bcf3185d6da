"""What every search index shares: the protocol, visibility, sort orders, paging and counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from mcp_console.backend.catalog.search.query import ParsedQuery
from mcp_console.backend.db.models import McpService, ServiceTag, User
from mcp_console.schemas.catalog import CategoryCount, ServiceStatus, SortKey, TagCount
from mcp_console.schemas.errors import Invalid
from mcp_console.schemas.users import Principal

MAX_PAGE_SIZE = 500

# The sort key of "name": the name with ASCII letters lower-cased (SQLite's lower() and
# PostgreSQL's under the C collation alike), so "SQLite" sorts among the "s"; both databases
# index lower(name).
NAME_KEY = "name_key"
# Ties in every sort go by name, A to Z (names are unique: the name itself orders names
# differing only in case), so pages never overlap.
BY_NAME: tuple[tuple[str, bool], ...] = ((NAME_KEY, False), ("name", False))
# ORDER BY of each sort key: (column, descending) pairs. "relevance" is "downloads" once
# the text score is applied (or absent). The sort indexes serve the leading columns; the
# databases order each run of equal values by name as they read it (SQLite's sorter for
# the right part of an ORDER BY, PostgreSQL's incremental sort), stopping at the page's end.
SORT_ORDERS: dict[SortKey, tuple[tuple[str, bool], ...]] = {
    "relevance": (("downloads_count", True), *BY_NAME),
    "downloads": (("downloads_count", True), *BY_NAME),
    "rating": (("rating_average", True), ("rating_count", True), *BY_NAME),
    "new": (("created_at", True), *BY_NAME),
    "name": BY_NAME,
}


def sort_key(name: str, columns: ReadOnlyColumnCollection[str, Any]) -> ColumnElement[Any]:
    """One column of a sort order: a column of ``columns``, or ``lower(name)`` for NAME_KEY."""
    if name == NAME_KEY and name not in columns:
        return func.lower(columns["name"])
    column: ColumnElement[Any] = columns[name]
    return column


def order_columns(
    sort: SortKey, columns: ReadOnlyColumnCollection[str, Any] | None = None
) -> list[UnaryExpression[Any]]:
    """The ORDER BY of ``sort`` on ``mcp_services`` (or on a subquery's ``columns``)."""
    source = McpService.__table__.c if columns is None else columns
    return [
        sort_key(name, source).desc() if descending else sort_key(name, source).asc()
        for name, descending in SORT_ORDERS[sort]
    ]


@dataclass(frozen=True, slots=True)
class SearchHits:
    """One page of matches, in order, and how many match in all.

    ``exact`` is False where ``total`` is an estimate (at least the matches seen so far)
    or a lower bound (a count stopped there): searches too broad to count.
    """

    ids: list[int]
    total: int
    exact: bool = True


class SearchIndex(Protocol):
    """Full-text search over the catalog, kept in the database next to the services."""

    async def index(self, session: AsyncSession, service_ids: Sequence[int]) -> None:
        """Refresh the index rows of these services; ids no longer in the catalog are removed.

        Called by the catalog after its writes, inside the same transaction.
        """
        ...

    async def rebuild(self, session: AsyncSession) -> None:
        """Rebuild the whole index from the services (after a bulk load or a repair)."""
        ...

    async def search(
        self,
        session: AsyncSession,
        query: ParsedQuery,
        *,
        actor: Principal | None,
        page: int,
        page_size: int,
    ) -> SearchHits:
        """The ids of one page of matches, in order, and the count of all matches.

        Raises:
            Invalid: ``page`` is below 1 or ``page_size`` outside 1..MAX_PAGE_SIZE.
        """
        ...


@dataclass(frozen=True)
class Scope:
    """Which services a search may return: one status, and maybe one author's only."""

    status: ServiceStatus
    author_id: int | None = None


def scope_of(query: ParsedQuery, actor: Principal | None) -> Scope | None:
    """The visible services for ``query`` and ``actor``; ``None`` when nothing is visible.

    By default only published services show; ``status:deprecated`` shows deprecated ones;
    ``status:draft`` shows every draft to an admin, only their own to anyone else, and none
    to an anonymous caller.
    """
    status = query.status or ServiceStatus.PUBLISHED
    if status is not ServiceStatus.DRAFT:
        return Scope(status)
    if actor is None:
        return None
    return Scope(status, None if actor.is_admin else actor.user_id)


def check_page(page: int, page_size: int) -> int:
    """The offset of ``page``, after checking both numbers."""
    if page < 1:
        raise Invalid(f"page must be 1 or more, not {page}", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(
            f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}", field="page_size"
        )
    return (page - 1) * page_size


def effective_sort(query: ParsedQuery) -> SortKey:
    """The sort that applies: relevance needs words to score, else it is popularity."""
    if query.sort == "relevance" and not query.words:
        return "downloads"
    return query.sort


async def search_scope(
    session: AsyncSession, query: ParsedQuery, actor: Principal | None
) -> tuple[Scope, list[int]] | None:
    """What a search may match: its visibility scope and the ids ``author:`` names, or
    ``None`` when nothing can match (a status the actor may not see, an unknown author)."""
    scope = scope_of(query, actor)
    if scope is None:
        return None
    author_ids: list[int] = []
    if query.author is not None:
        author_ids = await author_ids_named(session, query.author)
        if not author_ids:
            return None
    return scope, author_ids


async def author_ids_named(session: AsyncSession, name: str) -> list[int]:
    """Ids of the users called ``name`` (ignoring ASCII case)."""
    rows = await session.scalars(select(User.id).where(func.lower(User.name) == func.lower(name)))
    return list(rows)


async def category_counts(session: AsyncSession, actor: Principal | None) -> list[CategoryCount]:
    """Published services per category, most populated first, then by name.

    ``actor`` is accepted for symmetry with search: every caller sees the same published set.
    """
    del actor
    count = func.count()
    rows = await session.execute(
        select(McpService.category, count)
        .where(McpService.status == ServiceStatus.PUBLISHED.value, McpService.category.is_not(None))
        .group_by(McpService.category)
        .order_by(count.desc(), McpService.category)
    )
    return [CategoryCount(name=name, count=n) for name, n in rows]


async def tag_counts(
    session: AsyncSession, actor: Principal | None, limit: int = 200
) -> list[TagCount]:
    """The ``limit`` tags carried by most published services, then by name.

    Raises:
        Invalid: ``limit`` is below 1.
    """
    del actor
    if limit < 1:
        raise Invalid(f"limit must be 1 or more, not {limit}", field="limit")
    count = func.count()
    rows = await session.execute(
        select(ServiceTag.tag, count)
        .join(McpService, McpService.id == ServiceTag.service_id)
        .where(McpService.status == ServiceStatus.PUBLISHED.value)
        .group_by(ServiceTag.tag)
        .order_by(count.desc(), ServiceTag.tag)
        .limit(limit)
    )
    return [TagCount(name=name, count=n) for name, n in rows]
