"""Catalog search on PostgreSQL: a generated, weighted tsvector with a GIN index and ts_rank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL, REGCONFIG, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.search.base import (
    Scope,
    check_page,
    effective_sort,
    order_columns,
    scope_of,
)
from mcp_console.backend.catalog.search.query import MIN_PREFIX_LENGTH, ParsedQuery, terms_of
from mcp_console.backend.db.models import McpService, ServiceTag, User
from mcp_console.schemas.users import Principal

SEARCH_VECTOR = literal_column("mcp_services.search_vector", TSVECTOR)
UNINDEXED_VECTOR = literal_column("coalesce(mcp_services.search_vector, ''::tsvector)", TSVECTOR)
# ts_rank weights of D, C, B, A: names (A) count ten times the description (C), tags (B) six.
RANK_WEIGHTS = literal_column("'{0.0, 0.1, 0.6, 1.0}'::float4[]", ARRAY(REAL))
SIMPLE = literal_column("'simple'::regconfig", REGCONFIG)
# Past this many matches the order falls back to popularity: ts_rank reads every match's
# vector again (a few microseconds each), and so many matches say little about fit.
RANK_CAP = 1000
# A page of a search matching more than WINDOW services, within the first WALK rows, is
# read by walking a sort index; otherwise the matches are read from the GIN index and sorted.
WINDOW = 1000
WALK = 40


def tsquery_text(words: Sequence[str]) -> str:
    """The tsquery for ``words``: each word a phrase of quoted lexemes, the last a prefix.

    Lexemes are letters and digits only, so nothing typed can act as tsquery syntax.
    """
    phrases = []
    for word in words:
        lexemes = [f"'{term}'" for term in terms_of(word)]
        if len(lexemes[-1]) - 2 >= MIN_PREFIX_LENGTH:
            lexemes[-1] += ":*"
        phrases.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(phrases)


def conditions(
    query: ParsedQuery, scope: Scope, vector: ColumnElement[Any] = SEARCH_VECTOR
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a search, text match (on ``vector``) included."""
    # Status and prices come from our enums, never from the user's text: they are written
    # into the statement so that even a generic (cached) plan knows how selective they are.
    where: list[ColumnElement[bool]] = [McpService.status == _constant(scope.status.value)]
    if scope.author_id is not None:
        where.append(McpService.author_id == scope.author_id)
    if query.words:
        where.append(vector.op("@@")(_tsquery(query)))
    if query.author is not None:
        where.append(
            McpService.author_id.in_(
                select(User.id).where(func.lower(User.name) == func.lower(query.author))
            )
        )
    if query.category is not None:
        where.append(McpService.category == query.category.lower())
    for tag in query.tags:
        where.append(
            McpService.id.in_(select(ServiceTag.service_id).where(ServiceTag.tag == tag.lower()))
        )
    if query.prices:
        where.append(McpService.price_model.in_([_constant(price.value) for price in query.prices]))
    if query.featured is not None:
        where.append(McpService.featured.is_(query.featured))
    return where


def _constant(value: str) -> BindParameter[str]:
    return bindparam(None, value, String(), literal_execute=True)


def _tsquery(query: ParsedQuery) -> ColumnElement[object]:
    # A scalar subquery is computed once per statement, not once per row it filters or ranks.
    return select(func.to_tsquery(SIMPLE, tsquery_text(query.words))).scalar_subquery()


class PostgresSearchIndex:
    """Search over ``mcp_services.search_vector``, a generated column PostgreSQL keeps current."""

    def __init__(self, *, rank_cap: int = RANK_CAP, window: int = WINDOW, walk: int = WALK) -> None:
        """``window`` and ``walk`` choose how pages are read (see WINDOW); tests vary them."""
        self._rank_cap = rank_cap
        self._window = window
        self._walk = walk

    async def index(self, session: AsyncSession, service_ids: Sequence[int]) -> None:
        """Nothing to do: the vector is a generated column, rewritten with its row."""
        del session, service_ids

    async def rebuild(self, session: AsyncSession) -> None:
        """Refresh the planner's statistics of the vector (the vector itself is always current)."""
        await session.execute(text("ANALYZE mcp_services"))

    async def search(
        self,
        session: AsyncSession,
        query: ParsedQuery,
        *,
        actor: Principal | None,
        page: int,
        page_size: int,
    ) -> tuple[list[int], int]:
        """The ids of one page of matches, in order, and the count of all matches."""
        offset = check_page(page, page_size)
        scope = scope_of(query, actor)
        if scope is None:
            return [], 0
        where = conditions(query, scope)
        # The exact count comes first: it says how the page is best read, and a page read
        # alongside it (a window over the matches) would be wasted whenever there are many.
        total = await _count(session, where)
        if offset >= total:
            return [], total
        sort = effective_sort(query)
        if query.words and sort == "relevance" and total <= self._rank_cap:
            rank = func.ts_rank(RANK_WEIGHTS, SEARCH_VECTOR, _tsquery(query))
            # Equal scores: the newest service first, as on SQLite.
            order = [rank.desc(), McpService.id.desc()]
        else:
            order = order_columns(sort)
            if query.words and total > self._window and offset + page_size <= self._walk:
                # Many matches and a page near the front: walk the sort index and test each
                # row's vector, wrapped so that the planner cannot pick the GIN index (which
                # would read every match again to sort them).
                where = conditions(query, scope, UNINDEXED_VECTOR)
        page_ids = select(McpService.id).where(*where).order_by(*order)
        return list(await session.scalars(page_ids.limit(page_size).offset(offset))), total


async def _count(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    count = select(func.count()).select_from(McpService).where(*where)
    return int(await session.scalar(count) or 0)
