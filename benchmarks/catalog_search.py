"""Catalog search latency at scale on SQLite and PostgreSQL, side by side with the targets.

Generates N services with realistic names, descriptions, categories and tags, bulk-loads
them into fresh databases migrated to head, then times a mix of searches (words, as-you-type
prefixes, filters, words with filters, sorts, deep pages) through ``SearchIndex.search``.

    python benchmarks/catalog_search.py                       # 100k services, both databases
    python benchmarks/catalog_search.py --services 20000 --sqlite-only
    python benchmarks/catalog_search.py --catalogs DIR        # vocabulary from real catalogs

``--catalogs`` (or ``MCP_CONSOLE_BENCH_CATALOGS``) names a directory holding Docker's MCP
catalog (``*/server.yaml``) and/or MCP Registry dumps (``*.json``); without it, or when it
cannot be read, a built-in vocabulary is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import NullPool, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mcp_console.backend.catalog.search import SearchIndex, parse_query, search_index_for
from mcp_console.backend.db.engine import create_engine, session_factory
from mcp_console.backend.db.migrate import upgrade_sync
from mcp_console.backend.db.models import McpService, ServiceTag, User
from mcp_console.schemas.users import Principal, Role

TARGETS_MS = {"sqlite": 10.0, "postgresql": 15.0}  # p95 at 100k services
PAGE_SIZE = 20
BATCH = 5000
AUTHORS = 2000
NOW = datetime(2026, 11, 1, tzinfo=UTC)

BUILTIN_PRODUCTS = """
github gitlab bitbucket slack discord notion jira confluence linear asana trello postgres mysql
sqlite mongodb redis elasticsearch kafka rabbitmq kubernetes docker terraform aws azure gcp
cloudflare vercel netlify stripe paypal shopify salesforce hubspot zendesk twilio sendgrid gmail
outlook calendar drive dropbox box figma miro canva youtube spotify twitter reddit hackernews
wikipedia arxiv weather maps openstreetmap browser playwright puppeteer filesystem git shell
python node deno rust openapi graphql grafana prometheus datadog sentry pagerduty airtable
supabase firebase neo4j snowflake bigquery duckdb
"""
BUILTIN_WORDS = """
mcp server model context protocol for the and to a with that enables ai assistants api access
data tools integration search manage query create read update files documents repositories
issues pull requests messages channels users projects tasks database tables records analytics
metrics logs alerts dashboards deployments clusters containers images secrets configuration
workflows automation agents llms claude cursor desktop clients interact using through provides
allows real time web pages content scraping crawling browser automation screenshots emails
events calendars schedules payments invoices customers orders products inventory tickets
support knowledge base notes memory vector embeddings retrieval semantic indexing monitoring
observability tracing security scanning vulnerabilities compliance translation speech audio
video transcription maps locations
"""
BUILTIN_CATEGORIES = """
devops database productivity communication search ai monitoring finance cloud web-scraping
developer-tools data-analytics security media utilities
"""
SUFFIXES = ("mcp", "server", "mcp-server", "tools", "connector", "bridge", "api", "assistant")
STOPWORDS = """
a an and are as at be by for from has in is it its of on or that the this to with your you via
can into like any
"""


# --- vocabulary ----------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Words, descriptions, products, categories and tags to build services from."""

    descriptions: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    words: Counter[str] = field(default_factory=Counter)
    source: str = "built-in"


def load_vocabulary(catalogs: Path | None) -> Vocabulary:
    """Read real catalogs when given and readable; never fail: fall back to built-in lists."""
    vocab = Vocabulary()
    if catalogs is not None:
        try:
            _read_catalogs(catalogs, vocab)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            print(f"note: cannot read catalogs in {catalogs} ({exc}); using built-in words")
            vocab = Vocabulary()
    if len(vocab.descriptions) < 20 or not vocab.categories or not vocab.tags:
        vocab = _builtin_vocabulary()
    for description in vocab.descriptions:
        vocab.words.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", description))
    return vocab


def _read_catalogs(root: Path, vocab: Vocabulary) -> None:
    categories: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    products: Counter[str] = Counter()
    for path in sorted(root.rglob("server.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        meta, about = doc.get("meta") or {}, doc.get("about") or {}
        if isinstance(meta.get("category"), str):
            categories[meta["category"].lower()] += 1
        tags.update(str(t).lower() for t in meta.get("tags") or [])
        if isinstance(about.get("description"), str):
            vocab.descriptions.append(" ".join(about["description"].split()))
        products.update(_name_parts(str(doc.get("name", ""))))
    for path in sorted(root.rglob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("description"), str):
                vocab.descriptions.append(" ".join(entry["description"].split()))
                products.update(_name_parts(str(entry.get("name", "")).rsplit("/", 1)[-1]))
    vocab.categories = [c for c, _ in categories.most_common()]
    vocab.tags = [t for t, _ in tags.most_common()]
    vocab.products = [p for p, n in products.most_common(600) if n >= 1]
    vocab.source = str(root)


def _name_parts(name: str) -> list[str]:
    noise = {"mcp", "server", "servers", "official", "io", "github", "com", "ai"}
    return [
        part
        for part in re.split(r"[^a-z0-9]+", name.lower())
        if len(part) > 2 and part not in noise
    ]


def _builtin_vocabulary() -> Vocabulary:
    rng = random.Random(7)
    products, words = BUILTIN_PRODUCTS.split(), BUILTIN_WORDS.split()
    vocab = Vocabulary(products=products, categories=BUILTIN_CATEGORIES.split())
    vocab.tags = vocab.categories + products[:60]
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    for _ in range(400):
        chosen = rng.choices(words, weights, k=rng.randint(8, 25))
        vocab.descriptions.append(" ".join(chosen).capitalize() + ".")
    return vocab


# --- services ------------------------------------------------------------------------------


def generate_services(vocab: Vocabulary, count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Rows of ``mcp_services``: realistic text, Zipf-ish popularity, mostly published."""
    rng = random.Random(seed)
    product_weights = [1.0 / (rank + 1) ** 0.7 for rank in range(len(vocab.products))]
    tag_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(vocab.tags))]
    category_weights = [1.0 / (rank + 1) ** 0.6 for rank in range(len(vocab.categories))]
    common = [w for w, _ in vocab.words.most_common(3000)]
    common_weights = [vocab.words[w] for w in common]
    for i in range(1, count + 1):
        product = rng.choices(vocab.products, product_weights)[0]
        suffix = rng.choice(SUFFIXES)
        owner = f"{rng.choice(vocab.products)}{rng.randint(1, 999)}"
        name = f"io.github.{owner}/{product}-{suffix}-{i:x}"
        if rng.random() < 0.4:
            name = f"{product}-{suffix}-{i:x}"
        extra = " ".join(rng.choices(common, common_weights, k=rng.randint(4, 16)))
        description = f"{rng.choice(vocab.descriptions)} {product.capitalize()} {extra}."
        tags = list(dict.fromkeys(rng.choices(vocab.tags, tag_weights, k=rng.randint(1, 5))))
        ratings = int(rng.expovariate(1 / 8)) if rng.random() < 0.7 else 0
        status = rng.choices(["PUBLISHED", "DRAFT", "DEPRECATED"], [85, 10, 5])[0]
        created = NOW - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        yield {
            "id": i,
            "name": name,
            "display_name": f"{product.capitalize()} {suffix.replace('-', ' ').title()}",
            "description": description[:2000],
            "category": rng.choices(vocab.categories, category_weights)[0]
            if rng.random() < 0.9
            else None,
            "tags": tags,
            "author_id": int(AUTHORS * rng.random() ** 2) + 1,
            "price_model": rng.choices(["FREE", "FREEMIUM", "PAID"], [60, 25, 15])[0],
            "price_per_request": 0,
            "status": status,
            "featured": rng.random() < 0.02,
            "downloads_count": int(rng.lognormvariate(5, 2)),
            "rating_average": round(rng.uniform(1, 5), 1) if ratings else 0.0,
            "rating_count": ratings,
            "rating_sum": 0,
            "created_at": created,
            "updated_at": created,
            "published_at": created if status != "DRAFT" else None,
        }


async def load(
    engine: AsyncEngine, index: SearchIndex, rows: list[dict[str, Any]]
) -> tuple[float, float]:
    """Insert users, services and tags in batches, then build the index: seconds of each."""
    started = time.perf_counter()
    sessions = session_factory(engine)
    users = [
        {"id": n, "name": f"author{n}", "role": "author", "created_at": NOW}
        for n in range(1, AUTHORS + 1)
    ]
    async with sessions.begin() as session:
        await session.execute(insert(User), users)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            await session.execute(insert(McpService), batch)
            tags = [{"service_id": r["id"], "tag": t} for r in batch for t in r["tags"]]
            await session.execute(insert(ServiceTag), tags)
    inserted = time.perf_counter()
    async with sessions.begin() as session:
        await index.rebuild(session)
    return inserted - started, time.perf_counter() - inserted


# --- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One timed search."""

    kind: str
    text: str
    page: int = 1
    admin: bool = False


def generate_queries(
    vocab: Vocabulary, rows: list[dict[str, Any]], count: int, seed: int
) -> list[Query]:
    """A mix of what people type: words, prefixes, filters, both, sorts and deep pages."""
    rng = random.Random(seed)
    stop = set(STOPWORDS.split())
    content = [w for w, _ in vocab.words.most_common(1500) if len(w) >= 4 and w not in stop]
    products = vocab.products[:200]
    authors = sorted({int(r["author_id"]) for r in rows[:5000]})

    def word() -> str:
        return rng.choice(products) if rng.random() < 0.5 else rng.choice(content)

    def prefix() -> str:
        chosen = word()
        return chosen[: rng.randint(2, max(2, min(5, len(chosen) - 1)))]

    def filters(n: int) -> str:
        options: list[Callable[[], str]] = [
            lambda: f"category:{rng.choice(vocab.categories[:15])}",
            lambda: f"tag:{rng.choice(vocab.tags[:40])}",
            lambda: "price:" + rng.choice(["free", "paid", "freemium", "free|freemium"]),
            lambda: "featured:yes",
            lambda: f"author:author{rng.choice(authors)}",
            lambda: "status:deprecated",
        ]
        return " ".join(f() for f in rng.sample(options, n))

    def sort() -> str:
        return "sort:" + rng.choice(["rating", "downloads", "new", "name"])

    makers: list[tuple[int, Callable[[], Query]]] = [
        (25, lambda: Query("word", word())),
        (20, lambda: Query("prefix", prefix())),
        (15, lambda: Query("filters", filters(rng.randint(1, 3)))),
        (20, lambda: Query("words+filters", f"{word()} {filters(rng.randint(1, 2))}")),
        (10, lambda: Query("sort", rng.choice(["", word() + " ", prefix() + " "]) + sort())),
        (
            7,
            lambda: Query(
                "deep page", rng.choice([word(), prefix(), filters(1), ""]), rng.randint(5, 50)
            ),
        ),
        (
            3,
            lambda: Query("drafts", f"status:draft {rng.choice(['', word()])}".strip(), admin=True),
        ),
    ]
    weights = [w for w, _ in makers]
    return [rng.choices(makers, weights)[0][1]() for _ in range(count)]


# --- running -------------------------------------------------------------------------------


@dataclass
class Result:
    """Timings of one database."""

    dialect: str
    insert_seconds: float
    index_seconds: float
    load_after: float  # the machine's load average: other work skews every figure
    timings: list[tuple[Query, float, int]]

    def quantile(self, q: float, kind: str | None = None) -> float:
        values = sorted(ms for query, ms, _ in self.timings if kind in (None, query.kind))
        if not values:
            return math.nan
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


async def run(url: str, rows: list[dict[str, Any]], queries: list[Query], repeat: int) -> Result:
    """Migrate, load, then time every query ``repeat`` times (keeping the median)."""
    await asyncio.to_thread(upgrade_sync, url)
    engine = create_engine(url)
    try:
        index = search_index_for(engine.dialect.name)
        inserted, indexed = await load(engine, index, rows)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        sessions = session_factory(engine)
        admin = Principal(user_id=1, name="author1", role=Role.ADMIN)
        runs: dict[int, list[float]] = {i: [] for i in range(len(queries))}
        totals: dict[int, int] = {}
        for _ in range(repeat):
            for i, query in enumerate(queries):
                parsed = parse_query(query.text)
                actor = admin if query.admin else None
                started = time.perf_counter()
                async with sessions() as session:
                    hits = await index.search(
                        session, parsed, actor=actor, page=query.page, page_size=PAGE_SIZE
                    )
                totals[i] = hits.total if hits.exact else -hits.total  # negative: estimated
                runs[i].append((time.perf_counter() - started) * 1000)
        timings = [(q, statistics.median(runs[i]), totals[i]) for i, q in enumerate(queries)]
        return Result(engine.dialect.name, inserted, indexed, os.getloadavg()[0], timings)
    finally:
        await engine.dispose()


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def report(
    results: list[Result], services: int, queries: list[Query], vocab: Vocabulary, repeat: int
) -> None:
    print(
        f"\ncatalog search: {services:,} services, {len(queries)} queries (median of "
        f"{repeat} runs each), page size {PAGE_SIZE}"
    )
    print(
        f"vocabulary: {vocab.source} ({len(vocab.descriptions)} descriptions, "
        f"{len(vocab.categories)} categories, {len(vocab.tags)} tags)\n"
    )
    header = f"{'':24}" + "".join(f"{r.dialect:>14}" for r in results)
    print(header)
    print(f"{'insert (s)':24}" + "".join(f"{r.insert_seconds:>14.1f}" for r in results))
    print(f"{'index rebuild (s)':24}" + "".join(f"{r.index_seconds:>14.1f}" for r in results))
    for label, q in (("p50 (ms)", 0.5), ("p95 (ms)", 0.95), ("p99 (ms)", 0.99), ("max (ms)", 1.0)):
        print(f"{label:24}" + "".join(f"{r.quantile(q):>14.2f}" for r in results))
    print(f"{'load avg (1 min) after':24}" + "".join(f"{r.load_after:>14.1f}" for r in results))
    print(f"{'p95 target (ms)':24}" + "".join(f"{TARGETS_MS[r.dialect]:>14.1f}" for r in results))
    verdicts = []
    for r in results:
        ok = r.quantile(0.95) <= TARGETS_MS[r.dialect]
        verdicts.append("met" if ok else "MISSED")
    print(f"{'p95 vs target':24}" + "".join(f"{v:>14}" for v in verdicts))
    within = [
        sum(ms <= TARGETS_MS[r.dialect] for _, ms, _ in r.timings) / len(r.timings) for r in results
    ]
    print(f"{'queries within target':24}" + "".join(f"{share:>14.0%}" for share in within))
    kinds = list(dict.fromkeys(q.kind for q in queries))
    print("\np95 by kind (ms)")
    for kind in kinds:
        n = sum(1 for q in queries if q.kind == kind)
        print(
            f"  {kind + f' ({n})':22}"
            + "".join(f"{r.quantile(0.95, kind):>14.2f}" for r in results)
        )
    for r in results:
        slowest = sorted(r.timings, key=lambda t: -t[1])[:5]
        print(f"\nslowest on {r.dialect}:")
        for query, ms, total in slowest:
            matches = f"{total:,}" if total >= 0 else f"~{-total:,}"
            print(f"  {ms:8.2f} ms  {matches:>7} matches  page {query.page:<3} {query.text!r}")
    if services != 100_000:
        print("\n(the targets are set for 100,000 services)")


async def main(args: argparse.Namespace) -> int:
    catalogs = args.catalogs or os.environ.get("MCP_CONSOLE_BENCH_CATALOGS")
    vocab = load_vocabulary(Path(catalogs) if catalogs else None)
    rows = list(generate_services(vocab, args.services, args.seed))
    queries = generate_queries(vocab, rows, args.queries, args.seed + 1)
    results: list[Result] = []
    if not args.postgres_only:
        with tempfile.TemporaryDirectory(prefix="catalog-search-") as tmp:
            print(f"SQLite: loading {args.services:,} services ...", flush=True)
            sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            results.append(await run(sqlite_url, rows, queries, args.repeat))
    if not args.sqlite_only:
        if not args.postgres_url:
            print("PostgreSQL: skipped (no --postgres-url nor MCP_CONSOLE_TEST_POSTGRES_URL)")
        else:
            name = f"mcp_console_bench_{uuid.uuid4().hex[:8]}"
            server = args.postgres_url
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
            print(f"PostgreSQL: loading {args.services:,} services into {name} ...", flush=True)
            await _admin(server, f'CREATE DATABASE "{name}"')
            try:
                results.append(await run(url, rows, queries, args.repeat))
            finally:
                await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report(results, args.services, queries, vocab, args.repeat)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--services", type=int, default=100_000, help="services to generate")
    parser.add_argument("--queries", type=int, default=200, help="searches to time")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    which.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MCP_CONSOLE_TEST_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server (a scratch database is created and dropped)",
    )
    parser.add_argument("--catalogs", help="directory of real catalogs for the vocabulary")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of data and queries")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each query; its median counts (the first run also warms the caches)",
    )
    args = parser.parse_args(argv)
    if args.postgres_only and not args.postgres_url:
        parser.error("--postgres-only needs --postgres-url (or MCP_CONSOLE_TEST_POSTGRES_URL)")
    if min(args.services, args.queries, args.repeat) < 1:
        parser.error("--services, --queries and --repeat must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
