"""The quota check's figures for ``billing.py``: its cost per call, and the gateway with it.

``quota_check``: ``QuotaBook.reserve`` and ``settle`` of one billable call under three
limits at once (the user's requests per month, the key's spend per month with the call
priced, a rate limit on the tool), in microseconds of CPU per call (best of five rounds of
50,000 calls); the path with no limit at all beside it.

``gateway_quota``: our gateway (``gateway_serve.py``, stdio echo upstream, SQLite) under
the closed-loop load tool, without quotas and with the same three limits over every call
(``--quota``): the gateway's CPU-ms per call (target: still 0.4 at most).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway import python_run
from gateway_targets import start

from mcp_console.backend.billing.quota_book import Limit, QuotaBook, period_bounds
from mcp_console.backend.billing.rating import Price, PriceTimeline
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.schemas.catalog import PriceModel
from mcp_console.schemas.quotas import QuotaKind, QuotaPeriod, QuotaScope

CALLS = 50_000
ROUNDS = 5
CHECK_TARGET_US = 20.0
GATEWAY_TARGET_MS = 0.4
BASE_PORT = 18950
PEER = "ToolHive: per-key rate limits in Redis (operator only); no request or spend quotas"
USER, KEY, DEPLOYMENT, SERVICE = 1, 11, 21, 31


def _book(limited: bool) -> QuotaBook:
    """A book as ``QuotaService`` loads it: three limits over the caller, or none."""
    book = QuotaBook()
    now = time.time()
    month = period_bounds(QuotaPeriod.MONTH, now)
    limits = [
        Limit(
            1,
            QuotaScope.USER,
            USER,
            "bench",
            QuotaKind.REQUESTS,
            QuotaPeriod.MONTH,
            Decimal(10**12),
        ),
        Limit(
            2, QuotaScope.KEY, KEY, "mcp_bench", QuotaKind.SPEND, QuotaPeriod.MONTH, Decimal(10**12)
        ),
        Limit(
            3,
            QuotaScope.DEPLOYMENT,
            DEPLOYMENT,
            "bench/echo",
            QuotaKind.RATE,
            QuotaPeriod.SECOND,
            Decimal(10**12),
            tool="echo",
        ),
    ]
    for limit in limits:
        limit.starts, limit.ends = (
            month if limit.period is QuotaPeriod.MONTH else (0.0, float("inf"))
        )
    paid = Price("", PriceModel.PAID, Decimal("0.001"), 0, datetime(1970, 1, 1, tzinfo=UTC))
    book.load(
        limits if limited else [],
        teams={},
        allowances={},
        services={DEPLOYMENT: SERVICE},
        timelines={SERVICE: PriceTimeline([], paid)},
    )
    return book


def _us_per_call(book: QuotaBook, record: RequestRecord) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        hold = book.reserve(USER, KEY, DEPLOYMENT, "tools/call", "echo")
        if hold is not None:
            book.settle(hold, record)
    return (time.process_time() - started) / CALLS * 1e6


def quota_check() -> dict[str, Any]:
    """Reserve and settle per call under three limits, and with none (µs of CPU, best of 5)."""
    record = RequestRecord(
        deployment_id=DEPLOYMENT,
        instance_id="i-1",
        user_id=USER,
        method="tools/call",
        tool_name="echo",
        status=200,
        error=False,
        latency_ms=0.4,
        bytes_in=120,
        bytes_out=160,
        at=time.time(),
        key_id=KEY,
    )
    limited, free = _book(True), _book(False)
    three = none = float("inf")
    for _ in range(ROUNDS):
        three = min(three, _us_per_call(limited, record))
        none = min(none, _us_per_call(free, record))
    (requests,) = [lim for lim in limited.limits.values() if lim.kind is QuotaKind.REQUESTS]
    assert requests.used == ROUNDS * CALLS, "the book lost calls"
    assert requests.reserved == 0, "the book kept calls in flight"
    return {"three_limits_us": round(three, 2), "no_limit_us": round(none, 3)}


def gateway_quota(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The gateway's CPU-ms per call and calls/s over an HTTP and a stdio echo upstream,
    without quotas and with three limits over every call."""
    rows = []
    ports = itertools.count(BASE_PORT)
    args.peers_dir = getattr(args, "peers_dir", None)
    with tempfile.TemporaryDirectory() as work:
        args.work = Path(work)
        for name in ("gw-http", "gw-http-quota", "gw-stdio", "gw-stdio-quota"):
            with start(name, args, ports, Path(work) / f"{name}.log") as target:
                result = python_run(target, args.k, args)
            rows.append(
                {
                    "target": name,
                    "calls_per_s": round(result["rps"], 1),
                    "gateway_cpu_ms_per_call": round(result["own_ms"], 3),
                    "errors": result["errors"],
                }
            )
    return rows
