"""Catalog search on PostgreSQL: a generated, weighted tsvector with a GIN index and ts_rank."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, REGCONFIG, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from mcp_console.backend.catalog.search.base import (
    BY_NAME,
    NAME_KEY,
    SORT_ORDERS,
    Scope,
    SearchHits,
    check_page,
    effective_sort,
    order_columns,
    search_scope,
    sort_key,
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
# Searches the planner expects to match more than this many services are not counted: the
# total is its estimate (from the vector's statistics), as search engines say "about 11,300".
# Counting reads every match from the table (GIN is never index-only): ~1 µs each.
ESTIMATE_CAP = 1000
# Past this many matches the order falls back to popularity: ts_rank reads every match's
# vector again (a few microseconds each), and so many matches say little about fit.
RANK_CAP = 1000
# A page of a search matching many services, within the first WALK rows, is read by walking
# a sort index and testing each row; otherwise the matches are read from the GIN index.
WALK = 40
# A search whose estimate misled (a page past the real end) is counted, exactly up to this.
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
        estimate_cap: int = ESTIMATE_CAP,
        walk: int = WALK,
        count_cap: int = COUNT_CAP,
    ) -> None:
        """The caps choose how a page is read and counted (see ESTIMATE_CAP); tests vary them."""
        self._rank_cap = rank_cap
        self._estimate_cap = estimate_cap
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
        """The ids of one page of matches, in order, and how many match: counted when the
        planner expects at most ``estimate_cap``, else its estimate (exact on a last page)."""
        offset = check_page(page, page_size)
        scoped = await search_scope(session, query, actor)
        if scoped is None:
            return SearchHits([], 0)
        scope, author_ids = scoped
        where = conditions(query, scope, author_ids)
        matches = select(McpService.id).where(*where)
        # The planner's estimate says how the page is best read, at the cost of planning.
        expected = await _estimate(session, matches)
        sort = effective_sort(query)
        if expected > self._estimate_cap:
            return await self._many(
                session, query, where, scope, author_ids, expected, offset, page_size
            )
        # Few matches: all are read to sort them anyway, so counting them is nearly free.
        # They are gathered first (a materialised CTE, from the GIN index); otherwise the
        # planner walks a sort index for the page, not seeing that the count needs them all.
        keys = [McpService.__table__.c[name] for name in _SORT_COLUMNS]
        ranked = query.words and sort == "relevance"
        if ranked:
            keys.append(func.ts_rank(RANK_WEIGHTS, SEARCH_VECTOR, _tsquery(query)).label("rank"))
        found = select(*keys).where(*where).cte("found").prefix_with("MATERIALIZED")
        total = select(func.count()).select_from(found).scalar_subquery()
        order = order_columns(sort, found.c)
        if ranked:
            # Ranked while there are at most rank_cap matches (else popularity orders);
            # equal scores go by name, as on SQLite.
            within = total <= self._rank_cap
            order[:0] = [
                case((within, found.c.rank)).desc().nulls_last(),
                *(
                    case((within, sort_key(name, found.c))).asc().nulls_last()
                    for name, _ in BY_NAME
                ),
            ]
        counted = select(found.c.id, total).order_by(*order).limit(page_size).offset(offset)
        rows = (await session.execute(counted)).all()
        if rows:
            return SearchHits([row[0] for row in rows], int(rows[0][1]))
        if offset == 0:
            return SearchHits([], 0)
        return await self._past_the_end(session, where)

    async def _many(
        self,
        session: AsyncSession,
        query: ParsedQuery,
        where: list[ColumnElement[bool]],
        scope: Scope,
        author_ids: Sequence[int],
        expected: int,
        offset: int,
        page_size: int,
    ) -> SearchHits:
        """A page of a search expected to match many: read in popularity order, not counted."""
        reading = where
        if query.words and offset + page_size <= self._walk:
            # A page near the front: walk the sort index and test each row's vector, wrapped
            # so that the planner cannot pick the GIN index (which would read every match).
            reading = conditions(query, scope, author_ids, UNINDEXED_VECTOR)
        order = order_columns(effective_sort(query))
        page_ids = select(McpService.id).where(*reading).order_by(*order)
        ids = list(await session.scalars(page_ids.limit(page_size).offset(offset)))
        if len(ids) == page_size:
            return SearchHits(ids, max(expected, offset + page_size + 1), exact=False)
        if ids or offset == 0:
            # The last page: the total is known exactly.
            return SearchHits(ids, offset + len(ids))
        return await self._past_the_end(session, where)

    async def _past_the_end(
        self, session: AsyncSession, where: list[ColumnElement[bool]]
    ) -> SearchHits:
        """An empty page past the last (an estimate was high): counted, so the caller can
        page back."""
        total, exact = await _count(session, where, self._count_cap)
        return SearchHits([], total, exact)


# The id, and the columns any sort order reads (NAME_KEY is derived from the name).
_SORT_COLUMNS = sorted(
    {"id"}
    | {"name" if key == NAME_KEY else key for order in SORT_ORDERS.values() for key, _ in order}
)
_ROWS = re.compile(r" rows=(\d+) ")


async def _estimate(session: AsyncSession, statement: Select[Any]) -> int:
    """How many rows the planner expects ``statement`` to return."""
    plan = await session.execute(Explain(statement))
    found = _ROWS.search(str(plan.scalar()))
    return int(found.group(1)) if found else 0


class Explain(Executable, ClauseElement):
    """``EXPLAIN`` of a SELECT: its plan, never its rows."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _compile_explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


async def _count(
    session: AsyncSession, where: list[ColumnElement[bool]], cap: int
) -> tuple[int, bool]:
    """How many match, exactly up to ``cap``; past it ``(cap, False)``."""
    matches: Select[int] = select(literal_column("1", Integer)).select_from(McpService)
    matches = matches.where(*where)
    count = select(func.count()).select_from(matches.limit(cap + 1).subquery())
    found = int(await session.scalar(count) or 0)
    return (cap, False) if found > cap else (found, True)
