"""What no lost charges cost: the crash journal on the request path, and durable metering.

    python benchmarks/metering_durability.py                 # both figures
    python benchmarks/metering_durability.py --only journal  # the journal's cost per call
    python benchmarks/metering_durability.py --only durable --duration 5 --k 8

``journal``: ``UsageMeter.record`` of a billable call with the crash journal (counts in a
shared file mapping) and without it, in nanoseconds per call (best of five rounds), and
the one thing the journal changes on the path, the counter's store, in the mapping and in
a list: their difference is what the journal adds to every call (target: 1 µs at most).

``durable``: our gateway (``gateway_serve.py``, stdio echo upstream, SQLite) under the
closed-loop load tool, metering as usual and with ``--durable`` (each billable call's usage
written before its reply ends): the gateway's CPU-ms per call and calls per second of each.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway import echo_modes

from mcp_console.backend.db.engine import create_engine
from mcp_console.backend.db.migrate import upgrade
from mcp_console.backend.gateway.meter import UsageMeter
from mcp_console.backend.gateway.records import RequestRecord
from mcp_console.backend.gateway.usage_journal import JOURNAL_FILE, open_journal

CALLS = 50_000
ROUNDS = 5
BASE_PORT = 18900
JOURNAL_TARGET_US = 1.0
GATEWAY_TARGET_MS = 0.4  # the gateway's budget per call (durable metering is opt-in)
PEER = "ToolHive: rate limits only; ContextForge: billing export an open request (no meter)"


def _records(n: int) -> list[RequestRecord]:
    now = time.time()
    return [
        RequestRecord(
            deployment_id=1 + i % 4,
            instance_id="i-1",
            user_id=1 + i % 16,
            method="tools/call",
            tool_name="echo",
            status=200,
            error=False,
            latency_ms=0.4,
            bytes_in=120,
            bytes_out=160,
            at=now,
        )
        for i in range(n)
    ]


def _ns_per_call(meter: UsageMeter, records: list[RequestRecord]) -> float:
    meter.ledger.take()
    meter.log.take()
    gc.collect()
    started = time.perf_counter_ns()
    for record in records:
        meter.record(record)
    return (time.perf_counter_ns() - started) / len(records)


def _store_ns(counts: Any) -> float:
    started = time.perf_counter_ns()
    for _ in range(CALLS):
        counts[0] += 1
    return (time.perf_counter_ns() - started) / CALLS


async def journal_figure() -> dict[str, Any]:
    """``record()`` per billable call with and without the crash journal (ns, best of 5,
    interleaved so that both see the same machine), and the counter's store alone."""
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite+aiosqlite:///{Path(work) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        journal, _ = await open_journal(engine, Path(work) / JOURNAL_FILE)
        assert journal is not None
        records = _records(CALLS)
        plain_meter, journal_meter = UsageMeter(engine), UsageMeter(engine, journal=journal)
        plain = journaled = float("inf")
        for _ in range(ROUNDS):
            plain = min(plain, _ns_per_call(plain_meter, records))
            journaled = min(journaled, _ns_per_call(journal_meter, records))
        mapped = min(_store_ns(journal.counts) for _ in range(ROUNDS))
        in_memory = min(_store_ns([0] * 6) for _ in range(ROUNDS))
        journal.close()
        await engine.dispose()
    return {
        "record_ns": round(plain, 1),
        "record_with_journal_ns": round(journaled, 1),
        "mapped_counter_ns": round(mapped, 1),
        "memory_counter_ns": round(in_memory, 1),
        "journal_ns": round(mapped - in_memory, 1),
    }


def durable_figure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The gateway's CPU-ms per call and calls/s, metering as usual and durable."""
    return echo_modes([("default", []), ("durable", ["--durable"])], args, BASE_PORT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", choices=("journal", "durable"))
    ap.add_argument("--k", type=int, default=8, help="concurrent sessions of the load tool")
    ap.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0)
    args = ap.parse_args()
    if args.only in (None, "journal"):
        print(json.dumps({"journal": asyncio.run(journal_figure())}), flush=True)
    if args.only in (None, "durable"):
        for row in durable_figure(args):
            print(json.dumps({"durable": row}), flush=True)


if __name__ == "__main__":
    main()
