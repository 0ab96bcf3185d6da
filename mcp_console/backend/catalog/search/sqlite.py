"""Catalog search on SQLite: an FTS5 table ranked with bm25, filters as indexed facet tokens.

Joining FTS5 matches to ``mcp_services`` costs a row lookup per match, which for a common
word or a two-letter prefix (tens of thousands of matches) takes longer than the whole
search may. So every filter is also a token in a ``facets`` column (``0spublished``,
``0pfree``, ``0t<hex of tag>`` ...): the exact total is one FTS5 count, and the page is
read by whichever plan costs least for it: ranking every match with bm25 (few matches),
walking a sort index and probing each service (a page near the front of many matches),
walking it against the list of matches, or sorting the matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from sqlalchemy import BindParameter, ColumnElement, TextClause, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

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
)
from mcp_console.backend.catalog.search.query import MIN_PREFIX_LENGTH, ParsedQuery, terms_of
from mcp_console.backend.db.models import McpService
from mcp_console.schemas.catalog import PriceModel, ServiceStatus, SortKey
from mcp_console.schemas.users import Principal

FACET_MARK = "0"
TEXT_COLUMNS = "{name display_name tags description}"
# bm25 weights of name, display_name, tags, description, facets (facets never score).
BM25 = "bm25(service_search, 10.0, 8.0, 6.0, 1.0, 0.0)"
# The longest prefix the FTS5 table indexes (migration 0002: prefix='2 3 4 5 6'). A longer
# prefix is expanded over the vocabulary on every lookup, which makes probing costly.
MAX_INDEXED_PREFIX = 6
# Measured costs (microseconds, 100k services) of the page plans, per matching service
# (list: building the list of matches; sort: joining and sorting a match) and per service
# visited along a sort index (probe: one FTS5 lookup; visit: one look-up in the list;
# scan: reading the row to test the filters on its columns).
COST_PROBE = 15.0
COST_LIST = 0.25
COST_VISIT = 0.15
COST_SORT = 1.0
COST_SCAN = 1.5

# Ranking by relevance scores every match (bm25 costs about a microsecond each); past this
# many matches the words say little about which services fit best, and the order falls back
# to popularity (downloads).
RANK_CAP = 2000

Plan = Literal["rank", "probe", "list", "sort", "scan"]


@dataclass(frozen=True)
class Match:
    """The FTS5 query of a search, and whether probing it service by service is cheap."""

    expression: str
    cheap_probes: bool


# One index row per service: the same expressions as the triggers of migration 0002.
_ROWS = """
INSERT INTO service_search (rowid, name, display_name, tags, description, facets)
SELECT s.id, s.name, s.display_name,
       (SELECT group_concat(t.value, ' ') FROM json_each(s.tags) AS t),
       s.description,
       '0s' || lower(s.status) || ' 0p' || lower(s.price_model)
           || ' 0f' || (CASE WHEN s.featured THEN 1 ELSE 0 END) || ' 0a' || s.author_id
           || coalesce(' 0c' || hex(lower(s.category)), '')
           || coalesce((SELECT ' ' || group_concat('0t' || hex(lower(t.value)), ' ')
                        FROM json_each(s.tags) AS t), '')
FROM mcp_services AS s
"""
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def facet(kind: str, value: str) -> str:
    """The facet token of a value, as the index SQL builds it (SQLite's lower() is ASCII)."""
    return f"{FACET_MARK}{kind}{value.translate(_ASCII_LOWER)}"


def hex_facet(kind: str, value: str) -> str:
    """The facet token of free text (a category or tag): its lower-cased UTF-8 in hex."""
    return facet(kind, value.lower().encode().hex())


def match_of(query: ParsedQuery, scope: Scope, author_ids: Sequence[int]) -> Match:
    """The FTS5 query for ``query``: quoted terms and facet tokens only.

    Every term is letters and digits in double quotes, so nothing the user types can act
    as FTS5 syntax. Terms that could collide with a facet token are held to the text
    columns, and facets always to theirs. Filters that keep most services (published,
    not featured) are written as excluding the few others: FTS5 then reads short lists.
    """
    parts: list[str] = []
    excluded: list[str] = []
    cheap = True
    for word in query.words:
        terms = terms_of(word)
        phrase = '"' + " ".join(terms) + '"'
        if len(terms[-1]) >= MIN_PREFIX_LENGTH:
            phrase += "*"
            cheap = cheap and len(terms[-1]) <= MAX_INDEXED_PREFIX
        if any(term.startswith(FACET_MARK) for term in terms):
            phrase = f"{TEXT_COLUMNS} : {phrase}"
        parts.append(phrase)
    if scope.status is ServiceStatus.PUBLISHED:
        excluded += [facet("s", s.value) for s in ServiceStatus if s is not scope.status]
    else:
        parts.append(_facets([facet("s", scope.status.value)]))
    if scope.author_id is not None:
        parts.append(_facets([facet("a", str(scope.author_id))]))
    if query.author is not None:
        parts.append(_facets([facet("a", str(author_id)) for author_id in author_ids]))
    if query.category is not None:
        parts.append(_facets([hex_facet("c", query.category)]))
    parts.extend(_facets([hex_facet("t", tag)]) for tag in query.tags)
    if query.prices:
        others = [price for price in PriceModel if price not in query.prices]
        if len(others) < len(query.prices):
            excluded += [facet("p", price.value) for price in others]
        else:
            parts.append(_facets([facet("p", price.value) for price in query.prices]))
    if query.featured is True:
        parts.append(_facets([facet("f", "1")]))
    elif query.featured is False:
        excluded.append(facet("f", "1"))
    if not parts:
        # NOT needs something on its left: the status every visible service has.
        status = facet("s", scope.status.value)
        parts.append(_facets([status]))
        excluded = [token for token in excluded if not token.startswith(status[:2])]
    expression = " AND ".join(parts)
    if excluded:
        expression = f"({expression}) NOT {_facets(excluded)}"
    return Match(expression, cheap)


def _facets(tokens: list[str]) -> str:
    return "facets : (" + " OR ".join(f'"{token}"' for token in tokens) + ")"


def choose_plan(
    *, rank: bool, matches: int, services: int, wanted: int, cheap_probes: bool, scannable: bool
) -> Plan:
    """The cheapest way to read a page: ``wanted`` is its offset plus its size.

    A walk along a sort index visits about ``wanted * services / matches`` services;
    ``scannable`` says the query has filters only, which the rows' columns can answer.
    """
    if rank:
        return "rank"
    visits = min(services, wanted * services / max(matches, 1))
    costs: dict[Plan, float] = {
        "list": matches * COST_LIST + visits * COST_VISIT,
        "sort": matches * COST_SORT,
    }
    if cheap_probes:
        costs["probe"] = visits * COST_PROBE
    if scannable:
        costs["scan"] = visits * COST_SCAN
    return min(costs, key=lambda plan: costs[plan])


def scan_conditions(
    query: ParsedQuery, scope: Scope, author_ids: Sequence[int]
) -> list[ColumnElement[bool]]:
    """The filters of a query without words, on the rows' columns, as the facets mean them.

    Indexed columns are wrapped (``|| ''``, ``+ 0``, a function) so that SQLite cannot use
    their index for the filter and walks the index of the sort order instead.
    """
    where: list[ColumnElement[bool]] = [(McpService.status + "") == scope.status.value]
    if scope.author_id is not None:
        where.append((McpService.author_id + 0) == scope.author_id)
    if query.author is not None:
        where.append((McpService.author_id + 0).in_(list(author_ids)))
    if query.category is not None:
        where.append(func.lower(McpService.category) == query.category.lower())
    for tag in query.tags:
        tags = func.json_each(McpService.tags).table_valued("value")
        where.append(select(tags.c.value).where(func.lower(tags.c.value) == tag.lower()).exists())
    if query.prices:
        where.append(McpService.price_model.in_([price.value for price in query.prices]))
    if query.featured is not None:
        where.append(McpService.featured.is_(query.featured))
    return where


# Every statement below is assembled from the constants of this module; values are bound.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_INDEX_ROWS = text(_ROWS + " WHERE s.id IN :ids").bindparams(_IDS)
_DELETE_ROWS = text("DELETE FROM service_search WHERE rowid IN :ids").bindparams(_IDS)
_COUNT = text("SELECT count(*) FROM service_search WHERE service_search MATCH :match")
_LAST_ID = text("SELECT max(id) FROM mcp_services")
_SOURCES: dict[Plan, str] = {
    "sort": (
        "FROM service_search CROSS JOIN mcp_services AS s ON s.id = service_search.rowid"
        " WHERE service_search MATCH :match"
    ),
    "probe": (
        "FROM mcp_services AS s WHERE EXISTS (SELECT 1 FROM service_search"
        " WHERE service_search MATCH :match AND service_search.rowid = s.id)"
    ),
    # The unary + keeps the planner from reading the list by rowid: it must walk the index.
    "list": (
        "FROM mcp_services AS s WHERE +s.id IN"
        " (SELECT rowid FROM service_search WHERE service_search MATCH :match)"
    ),
}


def _order(columns: tuple[tuple[str, bool], ...], table: str) -> str:
    """An ORDER BY list over ``table`` (NAME_KEY is SQLite's ASCII ``lower(name)``)."""
    return ", ".join(
        f"{f'lower({table}.name)' if column == NAME_KEY else f'{table}.{column}'}"
        f" {'DESC' if descending else 'ASC'}"
        for column, descending in columns
    )


# Ranking scores every match from the FTS5 table alone; equal scores go by name, which is
# read only for the matches scoring at least as well as the page's last one (reading it for
# every match would cost more than the ranking).
_RANKED = f"""
WITH ranked AS MATERIALIZED (
    SELECT rowid AS id, {BM25} AS score FROM service_search WHERE service_search MATCH :match
)
SELECT r.id FROM ranked AS r CROSS JOIN mcp_services AS s ON s.id = r.id
WHERE r.score <= (
    SELECT max(score) FROM (SELECT score FROM ranked ORDER BY score LIMIT :offset + :limit)
)
ORDER BY r.score, {_order(BY_NAME, "s")} LIMIT :limit OFFSET :offset
"""  # noqa: S608 (assembled from this module's constants)


@cache
def page_statement(plan: Plan, sort: SortKey) -> TextClause:
    """The statement reading one page of ids with ``plan``, in the order of ``sort``."""
    if plan == "rank":
        return text(_RANKED)
    order = _order(SORT_ORDERS[sort], "s")
    return text(f"SELECT s.id {_SOURCES[plan]} ORDER BY {order} LIMIT :limit OFFSET :offset")


async def read_page(
    session: AsyncSession, expression: str, plan: Plan, sort: SortKey, offset: int, limit: int
) -> list[int]:
    """The ids of one page of the services matching ``expression``, read with ``plan``."""
    params = {"match": expression, "limit": limit, "offset": offset}
    return list(await session.scalars(page_statement(plan, sort), params))


class SqliteSearchIndex:
    """The FTS5 search index (``service_search``), kept current by triggers and ``index()``."""

    def __init__(self, *, rank_cap: int = RANK_CAP, plan: Plan | None = None) -> None:
        """``plan`` fixes how pages are read (to compare plans); by default the cheapest."""
        self._rank_cap = rank_cap
        self._plan = plan

    async def index(self, session: AsyncSession, service_ids: Sequence[int]) -> None:
        """Rewrite the index rows of these services from ``mcp_services``.

        The triggers of migration 0002 already do this on every write; rewriting is cheap
        and makes the index right even where a trigger could not be relied on.
        """
        await session.flush()  # the rows are read by SQL, which does not flush pending changes
        ids = sorted(set(service_ids))
        for start in range(0, len(ids), 500):
            chunk = {"ids": ids[start : start + 500]}
            await session.execute(_DELETE_ROWS, chunk)
            await session.execute(_INDEX_ROWS, chunk)

    async def rebuild(self, session: AsyncSession) -> None:
        """Rebuild the whole index in one statement, then merge it into one segment."""
        await session.execute(text("DELETE FROM service_search"))
        await session.execute(text(_ROWS))
        await session.execute(
            text("INSERT INTO service_search (service_search) VALUES ('optimize')")
        )

    async def search(
        self,
        session: AsyncSession,
        query: ParsedQuery,
        *,
        actor: Principal | None,
        page: int,
        page_size: int,
    ) -> SearchHits:
        """The ids of one page of matches, in order, and the count of all matches."""
        offset = check_page(page, page_size)
        scoped = await search_scope(session, query, actor)
        if scoped is None:
            return SearchHits([], 0)
        scope, author_ids = scoped
        match = match_of(query, scope, author_ids)
        total = int(await session.scalar(_COUNT, {"match": match.expression}) or 0)
        if offset >= total:
            return SearchHits([], total)
        sort = effective_sort(query)
        plan = self._plan or choose_plan(
            rank=sort == "relevance" and total <= self._rank_cap,
            matches=total,
            services=int(await session.scalar(_LAST_ID) or 0),
            wanted=offset + page_size,
            cheap_probes=match.cheap_probes,
            scannable=not query.words,
        )
        if plan == "scan" and not query.words:
            stmt = select(McpService.id).where(*scan_conditions(query, scope, author_ids))
            stmt = stmt.order_by(*order_columns(sort)).limit(page_size).offset(offset)
            return SearchHits(list(await session.scalars(stmt)), total)
        if plan == "scan":  # only a fixed plan gets here: words need the FTS5 table
            plan = "list"
        ids = await read_page(session, match.expression, plan, sort, offset, page_size)
        return SearchHits(ids, total)
