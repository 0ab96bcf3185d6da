"""Catalog search on PostgreSQL: a generated, weighted tsvector with a GIN index and ts_rank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, REGCONFIG, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from mcp_console.backend.catalog.search.base import (
    Scope,
    SearchHits,
    check_page,
    effective_sort,
    order_columns,
    search_scope,
)
from mcp_console.backend.catalog.search.query import MIN_PREFIX_LENGTH, ParsedQuery, terms_of
from mcp_console.backend.db.models import McpService
from mcp_console.schemas.users import Principal

SEARCH_VECTOR = literal_column("mcp_services.search_vector", TSVECTOR)
UNINDEXED_VECTOR = literal_column("coalesce(mcp_services.search_vector, ''::tsvector)", TSVECTOR)
# ts_rank weights of D, C, B, A: names (A) count ten times the description (C), tags (B) six.
RANK_WEIGHTS = literal_column("'{0.0, 0.1, 0.6, 1.0}'::float4[]", ARRAY(REAL))
SIMPLE = literal_column("'simple'::regconfig", REGCONFIG)
TAGS = type_coerce(McpService.tags, JSONB)
# Past this many matches the order falls back to popularity: ts_rank reads every match's
# vector again (a few microseconds each), and so many matches say little about fit.
RANK_CAP = 1000
# A page of a search matching more than WINDOW services, within the first WALK rows, is
# read by walking a sort index; otherwise the matches are read from the GIN index and sorted.
WINDOW = 1000
WALK = 40
# Matches are counted exactly up to this many; past it the total is a lower bound (as search
# engines report "10,000+"): an exact count must test every match, tens of ms at 100k.
COUNT_CAP = 10_000


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
    query: ParsedQuery,
    scope: Scope,
    author_ids: Sequence[int] = (),
    vector: ColumnElement[Any] = SEARCH_VECTOR,
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a search, text match (on ``vector``) included; ``author_ids`` are
    the ids ``author:`` names (resolved first, so the planner sees how few they are)."""
    # Status and prices come from our enums, never from the user's text: they are written
    # into the statement so that even a generic (cached) plan knows how selective they are.
    where: list[ColumnElement[bool]] = [McpService.status == _constant(scope.status.value)]
    if scope.author_id is not None:
        where.append(McpService.author_id == scope.author_id)
    if query.words:
        where.append(vector.op("@@")(_tsquery(query)))
    if query.author is not None:
        where.append(McpService.author_id.in_([_constant_int(i) for i in author_ids]))
    if query.category is not None:
        where.append(McpService.category == query.category.lower())
    for tag in query.tags:
        # Containment on the row's own tags, served by the GIN index ix_search_tags.
        where.append(TAGS.contains([tag.lower()]))
    if query.prices:
        where.append(McpService.price_model.in_([_constant(price.value) for price in query.prices]))
    if query.featured is not None:
        where.append(McpService.featured.is_(query.featured))
    return where


def _constant(value: str) -> BindParameter[str]:
    return bindparam(None, value, String(), literal_execute=True)


def _constant_int(value: int) -> BindParameter[int]:
    return bindparam(None, value, Integer(), literal_execute=True)


def _tsquery(query: ParsedQuery) -> ColumnElement[object]:
    # Written into the statement: to_tsquery(regconfig, text) is immutable, so the planner
    # folds it and estimates from the vector's statistics how many rows match (a bound or
    # sub-selected query looks the same whatever it matches, and plans go wrong: the GIN
    # index for a word in most rows, a sort-order walk for a rare one). The text holds
    # only quoted letters and digits (tsquery_text) and is escaped as a literal.
    return func.to_tsquery(SIMPLE, _constant(tsquery_text(query.words)))


class PostgresSearchIndex:
    """Search over ``mcp_services.search_vector``, a generated column PostgreSQL keeps current."""

    def __init__(
        self,
        *,
        rank_cap: int = RANK_CAP,
        window: int = WINDOW,
        walk: int = WALK,
        count_cap: int = COUNT_CAP,
    ) -> None:
        """``window`` and ``walk`` choose how pages are read (see WINDOW); tests vary them."""
        self._rank_cap = rank_cap
        self._window = window
        self._walk = walk
        self._count_cap = count_cap

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
    ) -> SearchHits:
        """The ids of one page of matches, in order, and the count of all matches (exact up
        to ``count_cap``, a lower bound past it)."""
        offset = check_page(page, page_size)
        scoped = await search_scope(session, query, actor)
        if scoped is None:
            return SearchHits([], 0)
        scope, author_ids = scoped
        where = conditions(query, scope, author_ids)
        # The count comes first: it says how the page is best read, and a page read
        # alongside it (a window over the matches) would be wasted whenever there are many.
        total, exact = await _count(session, where, self._count_cap)
        if exact and offset >= total:
            return SearchHits([], total)
        sort = effective_sort(query)
        if query.words and sort == "relevance" and exact and total <= self._rank_cap:
            rank = func.ts_rank(RANK_WEIGHTS, SEARCH_VECTOR, _tsquery(query))
            # Equal scores: the newest service first, as on SQLite.
            order = [rank.desc(), McpService.id.desc()]
        else:
            order = order_columns(sort)
            if query.words and total > self._window and offset + page_size <= self._walk:
                # Many matches and a page near the front: walk the sort index and test each
                # row's vector, wrapped so that the planner cannot pick the GIN index (which
                # would read every match again to sort them).
                where = conditions(query, scope, author_ids, UNINDEXED_VECTOR)
        page_ids = select(McpService.id).where(*where).order_by(*order)
        ids = list(await session.scalars(page_ids.limit(page_size).offset(offset)))
        return SearchHits(ids, total, exact)


async def _count(
    session: AsyncSession, where: list[ColumnElement[bool]], cap: int
) -> tuple[int, bool]:
    """How many match, exactly up to ``cap``; past it ``(cap, False)``."""
    matches: Select[int] = select(literal_column("1", Integer)).select_from(McpService)
    matches = matches.where(*where)
    count = select(func.count()).select_from(matches.limit(cap + 1).subquery())
    found = int(await session.scalar(count) or 0)
    return (cap, False) if found > cap else (found, True)
